"""The transactional outbox: Celery tasks queued in the database, in the caller's transaction.

``transaction.on_commit(lambda: task.delay(...))`` loses the task when the broker (Redis) is
down, and raises after the commit: the request answers 500 although its write was saved, a
retry makes a duplicate, and the e-mail or webhook processing it queued never happens.
Instead, services call ``enqueue(task, *args)``:

1. ``enqueue`` writes an ``OutboxTask`` row in the caller's transaction: the change and the
   work it queues commit together, or neither does.
2. Once the transaction commits, ``relay`` hands the row to Celery at once. A broker error is
   logged and recorded on the row — never raised: the write has committed, so its request
   succeeds.
3. The beat job ``members.tasks.outbox_relay`` (every minute) relays every row not sent yet,
   so a broker outage delays the work but loses none.

A relay *claims* rows in a short transaction (``select_for_update(skip_locked=True)``: two
relays never take the same row; a claim counts an attempt and holds the row for ``LEASE``),
commits, publishes outside any transaction (no lock is held over the network), then records
``sent_at``. A relay that dies between publishing and recording lets its rows go when the
lease ends, and they are sent again: delivery is at least once, so every task queued this way
must be idempotent (they all are: they take ids and check the row's state before acting).

With ``CELERY_TASK_ALWAYS_EAGER`` (the tests, the embedded ``make run``) there is no broker
to outlast: ``enqueue`` writes no row and runs the task in this process at the commit, as
``delay`` did, its errors propagating as they did.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from celery import current_app
from celery.app.task import Task
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from members.models import OutboxTask

logger = logging.getLogger(__name__)

# A claimed row is another relay's for this long (a publish takes milliseconds; a relay that
# died mid-batch lets its rows go after it).
LEASE = datetime.timedelta(minutes=5)
BATCH = 500
# Sent rows are kept this long for looking into what was queued, then deleted by the beat.
KEEP_SENT = datetime.timedelta(days=7)


def enqueue(task: Task[Any, Any] | str, *args: Any) -> OutboxTask | None:
    """Queue ``task(*args)`` to run once the current transaction commits (at once outside
    one); returns the outbox row. ``args`` must be JSON: ids, strings, booleans. The task
    must be idempotent.

    In eager mode there is no broker to wait for: no row is written and the task runs in
    this process at the commit, its errors propagating, exactly as ``delay`` did (returns
    None)."""
    name = task if isinstance(task, str) else task.name
    payload = list(args)
    json.dumps(payload)  # what a row could not hold fails here, in eager mode too
    if _eager():
        transaction.on_commit(partial(_run_eager, name, payload))
        return None
    row = OutboxTask.objects.create(task=name, args=payload)
    # Nothing may fail the request after its commit (a broken database connection included):
    # the beat relay finds the row.
    transaction.on_commit(partial(relay, ids=[row.pk]), robust=True)
    return row


def relay(*, ids: Sequence[int] | None = None, limit: int = BATCH) -> int:
    """Hand rows not sent yet (those of ``ids``, or any) to Celery, oldest first; returns how
    many were sent. Stops at the first broker error (the broker is down: the rest wait for
    the next run)."""
    rows = _claim(ids, limit)
    for position, row in enumerate(rows):
        if not _publish(row):
            _release(rows[position + 1 :])
            return position
    return len(rows)


def purge(*, now: datetime.datetime | None = None) -> int:
    """Delete rows sent more than KEEP_SENT ago; returns how many."""
    now = now or timezone.now()
    deleted, _by_model = OutboxTask.objects.filter(sent_at__lt=now - KEEP_SENT).delete()
    return deleted


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


def _claim(ids: Sequence[int] | None, limit: int) -> list[OutboxTask]:
    now = timezone.now()
    # Never claimed yet, or its last claim's lease has run out.
    due = Q(attempts=0) | Q(available_at__lte=now)
    with transaction.atomic():
        found = OutboxTask.objects.select_for_update(skip_locked=True).filter(
            due, sent_at__isnull=True
        )
        if ids is not None:
            found = found.filter(pk__in=ids)
        rows = list(found.order_by("pk")[:limit])
        if rows:
            OutboxTask.objects.filter(pk__in=[row.pk for row in rows]).update(
                attempts=F("attempts") + 1, available_at=now + LEASE
            )
    return rows


def _publish(row: OutboxTask) -> bool:
    """Send one claimed row; False (recorded on the row) when the broker refused it."""
    task = _task(row.task)
    if task is None:
        _failed(row, f"unknown task {row.task!r}")
        logger.error("Outbox row %s names an unknown task %r", row.pk, row.task)
        return True  # not the broker's fault: go on with the others
    if _eager():  # rows written before eager mode was switched on (tests)
        try:
            task.apply_async(args=tuple(row.args))
        finally:
            _sent(row)
        return True
    try:
        # No retries here: a broker that is down is tried again by the beat relay. Connecting
        # is not retried either (kombu would otherwise wait ~6 s before giving up, holding the
        # request that committed the write).
        with task.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)
            task.apply_async(args=tuple(row.args), retry=False, producer=producer)
    except Exception as exc:  # whatever the transport raises: the row waits for the next relay
        logger.warning(
            "Broker unavailable; outbox row %s (%s) waits for the next relay: %s",
            row.pk,
            row.task,
            exc,
        )
        _failed(row, f"{type(exc).__name__}: {exc}", retry_now=True)
        return False
    _sent(row)
    return True


def _run_eager(name: str, args: list[Any]) -> None:
    task = _task(name)
    if task is None:
        raise LookupError(f"unknown task {name!r}")
    task.apply_async(args=tuple(args))


def _task(name: str) -> Task[Any, Any] | None:
    app = current_app
    if name not in app.tasks:
        app.loader.import_default_modules()  # a process that never imported the task's module
    return app.tasks.get(name)


def _sent(row: OutboxTask) -> None:
    OutboxTask.objects.filter(pk=row.pk).update(sent_at=timezone.now(), last_error="")


def _failed(row: OutboxTask, error: str, *, retry_now: bool = False) -> None:
    changes: dict[str, Any] = {"last_error": error[:2000]}
    if retry_now:
        changes["available_at"] = timezone.now()
    OutboxTask.objects.filter(pk=row.pk).update(**changes)


def _release(rows: Sequence[OutboxTask]) -> None:
    """Claimed but not tried: free for the next relay at once."""
    if rows:
        OutboxTask.objects.filter(pk__in=[row.pk for row in rows]).update(
            available_at=timezone.now()
        )
