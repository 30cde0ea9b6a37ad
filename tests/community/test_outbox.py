"""The transactional outbox (members/outbox.py): a queued task is written in the caller's
transaction, relayed to the broker once it commits, sent exactly once however many relays run,
and kept — not lost, not raised — while the broker is down.

These tests use the real broker (the test Redis) with CELERY_TASK_ALWAYS_EAGER off, and read
what reached it from the Redis list Celery's "celery" queue is."""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu import pools

from community.celery import app as celery_app
from members import outbox
from members import tasks as member_tasks
from members.models import Community, Membership, OutboxTask
from members.tasks import outbox_relay
from tests.factories import UserFactory, add_member

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
QUEUE = "celery"
WELCOME = member_tasks.send_member_added_email.name


class Broker:
    """Celery's broker, switchable between the test Redis and one that is not there."""

    def __init__(self, url: str, transport_options: dict[str, Any]) -> None:
        self.url = url
        self.transport_options = transport_options
        self.redis = redis.Redis.from_url(url)

    def up(self) -> None:
        _use_broker(self.url, self.transport_options)

    def down(self) -> None:
        _use_broker(DEAD_REDIS, self.transport_options)

    def messages(self) -> list[tuple[str, list[Any]]]:
        """What waits in the queue, oldest first: (task name, args)."""
        found = []
        for raw in reversed(self.redis.lrange(QUEUE, 0, -1)):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            found.append((message["headers"]["task"], args))
        return found

    def work(self) -> None:
        """Be the worker: run every queued message once, in this process."""
        for name, args in self.messages():
            celery_app.tasks[name].apply(args=args, throw=True)
        self.redis.delete(QUEUE)


def _use_broker(url: str, transport_options: dict[str, Any]) -> None:
    """Point Celery at ``url``, dropping the connections and producers made for the last."""
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = transport_options


@contextlib.contextmanager
def real_broker() -> Iterator[Broker]:
    """Celery really publishing (not eager) to this test worker's own Redis database."""
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_transport_options)
    found = Broker(settings.CACHES["default"]["LOCATION"], dict(saved[2]))
    found.redis.delete(QUEUE)
    conf.task_always_eager = False
    found.up()
    yield found
    found.redis.delete(QUEUE)
    conf.task_always_eager = saved[0]
    _use_broker(saved[1], saved[2])


@pytest.fixture
def broker() -> Iterator[Broker]:
    with real_broker() as found:
        yield found


def _membership(community: Community) -> Membership:
    """A member an organiser added without telling them yet (no e-mail sent)."""
    return add_member(community, user=UserFactory(username="someone", email="someone@example.com"))


def _enqueue(task: Any, *args: Any) -> OutboxTask:
    row = outbox.enqueue(task, *args)
    assert row is not None  # not eager: a row is written
    return row


def _unsent(*pks: int) -> list[OutboxTask]:
    """Committed rows whose on-commit relay never ran (a process that died at the commit)."""
    return OutboxTask.objects.bulk_create(OutboxTask(task=WELCOME, args=[pk, True]) for pk in pks)


# --- Written in the caller's transaction ---------------------------------------------------------


def test_a_rolled_back_write_leaves_no_outbox_row_and_sends_nothing(
    broker: Broker, community: Community, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # when: the write that queued the task fails
    def write() -> None:
        with transaction.atomic():
            _enqueue(member_tasks.send_member_added_email, 1, True)
            raise RuntimeError("the write failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        write()
    # then
    assert (OutboxTask.objects.count(), callbacks, broker.messages()) == (0, [], [])


def test_a_committed_write_relays_its_task_at_once(
    broker: Broker, community: Community, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    membership = _membership(community)
    # when
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        row = _enqueue(member_tasks.send_member_added_email, membership.pk, True)
        # then: written in the transaction, not sent before the commit
        assert (OutboxTask.objects.get().pk, broker.messages()) == (row.pk, [])
    # then
    row.refresh_from_db()
    assert broker.messages() == [(WELCOME, [membership.pk, True])]
    assert (row.task, row.args, row.attempts, row.last_error) == (
        WELCOME,
        [membership.pk, True],
        1,
        "",
    )
    assert row.sent_at is not None


# --- Relayed once ---------------------------------------------------------------------------------


def test_relaying_twice_sends_once(broker: Broker, db: None) -> None:
    # given: two rows whose on-commit relay never ran (a process that died at the commit)
    first = _enqueue(WELCOME, 1, True)
    second = _enqueue(WELCOME, 2, False)
    # when
    sent = [outbox.relay(), outbox.relay()]
    # then
    assert sent == [2, 0]
    assert broker.messages() == [(WELCOME, [1, True]), (WELCOME, [2, False])]
    rows = OutboxTask.objects.order_by("pk")
    assert [(row.pk, row.attempts, row.sent_at is not None) for row in rows] == [
        (first.pk, 1, True),
        (second.pk, 1, True),
    ]


def test_a_relay_while_another_publishes_sends_nothing_twice(
    broker: Broker, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three rows; a relay that, while publishing the first, sees a second relay run
    for pk in (1, 2, 3):
        _enqueue(WELCOME, pk, True)
    inner: list[int] = []
    real_publish = outbox._publish

    def publish(row: OutboxTask) -> bool:
        if not inner:
            inner.append(outbox.relay())
        return real_publish(row)

    monkeypatch.setattr(outbox, "_publish", publish)
    # when
    sent = outbox.relay()
    # then: the rows were the first relay's (claimed), the second took none
    assert (sent, inner) == (3, [0])
    assert [args for _name, args in broker.messages()] == [[1, True], [2, True], [3, True]]


@pytest.mark.django_db(transaction=True)
def test_a_relay_skips_rows_another_relay_has_locked(broker: Broker) -> None:
    # given: four committed rows; another connection holds the first two (a relay claiming)
    rows = _unsent(0, 1, 2, 3)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(OutboxTask.objects.select_for_update().filter(pk__in=[r.pk for r in rows[:2]]))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=30)
    # when
    try:
        sent_while_locked = outbox.relay()
    finally:
        release.set()
        holder.join(timeout=30)
    sent_after = outbox.relay()
    # then
    assert (sent_while_locked, sent_after) == (2, 2)
    assert sorted(args[0] for _name, args in broker.messages()) == [0, 1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_send_every_row_once(broker: Broker) -> None:
    # given: many committed rows not sent yet
    _unsent(*range(60))
    barrier = threading.Barrier(3)
    counts: list[int] = []

    def relay() -> None:
        try:
            barrier.wait(timeout=30)
            while sent := outbox.relay(limit=7):
                counts.append(sent)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(3)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert sum(counts) == 60
    assert sorted(args[0] for _name, args in broker.messages()) == list(range(60))
    assert set(OutboxTask.objects.values_list("attempts", flat=True)) == {1}
    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()


# --- The broker down -----------------------------------------------------------------------------


def test_a_broker_error_is_recorded_not_raised_and_the_beat_relay_sends_later(
    broker: Broker, community: Community, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    membership = _membership(community)
    broker.down()
    # when: the broker refuses at the commit
    with django_capture_on_commit_callbacks(execute=True):
        row = _enqueue(member_tasks.send_member_added_email, membership.pk, False)
    # then: kept, with why
    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 1)
    assert row.last_error.startswith("OperationalError: ")
    assert row.available_at <= timezone.now()
    # when: the beat relay runs while it is still down
    assert outbox_relay() == 0
    # when: the broker is back
    broker.up()
    assert outbox_relay() == 1
    assert outbox_relay() == 0
    # then
    assert broker.messages() == [(WELCOME, [membership.pk, False])]
    row.refresh_from_db()
    assert (row.sent_at is not None, row.attempts, row.last_error) == (True, 3, "")


def test_a_broker_error_stops_the_batch_and_frees_the_rest(broker: Broker, db: None) -> None:
    for pk in (1, 2, 3):
        _enqueue(WELCOME, pk, True)
    broker.down()
    assert outbox.relay() == 0
    # only the first was tried; the others are free for the next relay at once
    assert list(OutboxTask.objects.order_by("pk").values_list("last_error", flat=True)) != [""] * 3
    assert OutboxTask.objects.filter(available_at__gt=timezone.now()).count() == 0
    broker.up()
    assert outbox.relay() == 3


def test_a_relay_that_died_after_claiming_lets_its_rows_go_after_the_lease(
    broker: Broker, db: None
) -> None:
    # given: a relay claimed the row and died before publishing it
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _enqueue(WELCOME, 7, True)
        assert len(outbox._claim(None, 10)) == 1
        # then: no other relay takes it during the lease
        assert outbox.relay() == 0
    # when: the lease has run out
    with time_machine.travel(start + outbox.LEASE + datetime.timedelta(seconds=1), tick=False):
        assert outbox.relay() == 1
    assert broker.messages() == [(WELCOME, [7, True])]


def test_the_beat_relay_sends_every_batch_and_purges_old_rows(
    broker: Broker, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "BATCH", 2)
    start = timezone.now()
    with time_machine.travel(start - outbox.KEEP_SENT - datetime.timedelta(hours=1), tick=False):
        old = _enqueue(WELCOME, 0, True)
        assert outbox.relay() == 1
    broker.redis.delete(QUEUE)
    for pk in range(1, 6):
        _enqueue(WELCOME, pk, True)
    # when
    with time_machine.travel(start, tick=False):
        sent = outbox_relay()
    # then
    assert sent == 5
    assert [args[0] for _name, args in broker.messages()] == [1, 2, 3, 4, 5]
    assert not OutboxTask.objects.filter(pk=old.pk).exists()
    assert celery_app.conf.beat_schedule["outbox-relay"]["task"] == outbox_relay.name


# --- Eager mode (the tests, ``make run``) ---------------------------------------------------------


def test_in_eager_mode_the_task_runs_in_process_at_the_commit_and_no_row_is_kept(
    community: Community,
    django_capture_on_commit_callbacks: Callable[..., Any],
    mailoutbox: list[Any],
) -> None:
    assert celery_app.conf.task_always_eager
    membership = _membership(community)
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox.enqueue(member_tasks.send_member_added_email, membership.pk, False)
        assert mailoutbox == []  # not before the commit
    assert (row, OutboxTask.objects.count()) == (None, 0)
    assert [m.to for m in mailoutbox] == [["someone@example.com"]]
    membership.refresh_from_db()
    assert membership.welcomed_at is not None


def test_arguments_a_row_could_not_hold_are_refused_in_eager_mode_too(db: None) -> None:
    with pytest.raises(TypeError):
        outbox.enqueue(member_tasks.send_member_added_email, datetime.date(2026, 1, 1), True)
