"""Stripe webhooks: verified, stored once by event id, acknowledged at once, processed in a
Celery task (Zulip's corporate/ does the same).

- ``event_receive`` (the view's body): checks the signature and its ±300 s window, stores the
  event in a row unique on its id (a second delivery finds the first row) and queues its
  processing on commit. A bad signature stores nothing.
- ``event_process`` (the task's body): first asks Stripe what the event needs
  (``stripe_events.prepare``: a charge's refunds, the invoice a payment intent paid) with no
  lock held; then, in one transaction, locks the row — the first lock of the documented order
  in rewards.locks; the handler locks the member, then the checkout, then payments — and acts
  only on a row still "received", so two workers given the same event post once. No Stripe
  call is made in that transaction: a call the event needs Stripe to act on goes out from a
  task queued on commit. The outcome is recorded on the row: processed, ignored (an unknown
  type, or not one of ours), failed (with the error), or — when something it needs has not
  arrived yet, or Stripe could not be asked — left "received" with a note saying what it
  waits for, to be tried again after the next event that succeeds and by the beat sweep.
"""

from __future__ import annotations

import datetime
import logging

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from members import outbox
from rewards.models import StripeEvent
from rewards.stripe import events as stripe_events
from rewards.stripe import gateway as stripe_gateway

logger = logging.getLogger(__name__)

Status = StripeEvent.Status
WAITING = "waiting: "
RETRYING = "retrying: "
# A waiting event older than this is given up (failed, for staff to look at).
WAIT_LIMIT = datetime.timedelta(days=3)
# A received event untouched this long lost its task (a worker died): queue it again.
LOST_AFTER = datetime.timedelta(minutes=5)
SWEEP_BATCH = 200


def _queue(event_id: int) -> None:
    from rewards import tasks

    outbox.enqueue(tasks.stripe_event_process, event_id)


def event_receive(*, payload: bytes, signature: str | None) -> StripeEvent:
    """Verify and store a delivery; raises stripe_gateway.WebhookRejectedError (nothing is
    stored then). A repeated delivery of an event not yet processed queues it again."""
    event = stripe_gateway.event_verify(payload=payload, signature=signature)
    # The event and its queued processing commit together.
    with transaction.atomic(savepoint=False):
        stored, _created = StripeEvent.objects.get_or_create(
            event_id=event["id"], defaults={"type": event["type"], "payload": event}
        )
        if stored.status == Status.RECEIVED:
            _queue(stored.pk)
    return stored


def event_process(*, event_id: int) -> str | None:
    """Act on a stored event once. Returns its status afterwards (None: nothing to do)."""
    stored = StripeEvent.objects.filter(pk=event_id).first()
    if stored is None or stored.status != Status.RECEIVED:
        return None
    # Stripe is asked before any lock is taken; what went wrong is recorded below, with the
    # row locked, as if the handler had raised it (Stripe down: WaitingError, so it waits).
    fetched: stripe_events.Fetched | Exception
    try:
        fetched = stripe_events.prepare(stored.payload)
    except Exception as exc:  # classified below
        fetched = exc
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status != Status.RECEIVED:
            return None
        try:
            if isinstance(fetched, Exception):
                raise fetched
            with transaction.atomic():
                handled = stripe_events.handle(event.payload, fetched)
        except stripe_events.WaitingError as exc:
            event.error = f"{WAITING}{exc}"[:2000]
            event.save(update_fields=["error"])
            return "waiting"
        except (OperationalError, InterfaceError) as exc:
            # The database, not the event (a deadlock, a lock timeout, a dropped connection):
            # the event stays "received" and the sweep queues it again.
            logger.warning("Stripe event %s: database trouble, tried later", event.event_id)
            event.error = f"{RETRYING}{type(exc).__name__}: {exc}"[:2000]
            event.save(update_fields=["error"])
            return "retrying"
        except Exception as exc:
            # Recorded on the row (and logged) for staff; the delivery itself was fine.
            logger.exception("Stripe event %s failed", event.event_id)
            event.status, event.error = Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        else:
            event.status = Status.PROCESSED if handled else Status.IGNORED
            event.error = ""
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "processed_at"])
        if event.status == Status.PROCESSED:
            waiting = (
                StripeEvent.objects.filter(status=Status.RECEIVED, error__startswith=WAITING)
                .order_by("pk")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            for other in waiting:
                _queue(other)
        return str(event.status)


def events_sweep(*, now: datetime.datetime | None = None) -> int:
    """The beat job: try waiting events again, give up on those waiting too long, and queue
    received events whose task was lost. Returns how many were queued."""
    now = now or timezone.now()
    with transaction.atomic():
        StripeEvent.objects.filter(
            status=Status.RECEIVED, error__startswith=WAITING, received_at__lt=now - WAIT_LIMIT
        ).update(status=Status.FAILED, processed_at=now)
        again = list(
            StripeEvent.objects.filter(status=Status.RECEIVED, received_at__lt=now - LOST_AFTER)
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        again += list(
            StripeEvent.objects.filter(status=Status.RECEIVED, error__startswith=WAITING)
            .exclude(pk__in=again)
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        for pk in again:
            _queue(pk)
    return len(again)


def event_retry(*, event: StripeEvent) -> None:
    """Staff: process a failed event again (after fixing what made it fail)."""
    with transaction.atomic():
        updated = StripeEvent.objects.filter(pk=event.pk, status=Status.FAILED).update(
            status=Status.RECEIVED, error="", processed_at=None
        )
        if updated:
            _queue(event.pk)
