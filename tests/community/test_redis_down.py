"""Redis down (issue 10): the cache and Celery's broker point at a port where nothing listens.

A write that committed answers success and the work it queued waits in the outbox
(members/outbox.py) until the broker is back, then is sent exactly once; sign-in, rate
limits and pages keep working on each process's memory (community/degraded.py); the health
check says "degraded". Nothing answers 500."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.core.cache import cache, caches
from django.test import Client, RequestFactory
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from community import degraded
from members.models import Community, Membership, OutboxTask, User
from members.tasks import outbox_relay
from questions.models import Comment, Notification
from rewards import checkout
from rewards.models import Payment, StripeEvent
from tests.community.test_outbox import DEAD_REDIS, Broker, real_broker
from tests.factories import PASSWORD, UserFactory, add_member
from tests.questions.helpers import answer, published
from tests.rewards import fake_stripe as fs
from tests.rewards.fake_stripe import FakeStripe, deliver

Capture = Callable[..., Any]


@pytest.fixture
def broker() -> Iterator[Broker]:
    with real_broker() as found:
        yield found


@pytest.fixture
def redis_down(broker: Broker, settings: Any) -> Iterator[Broker]:
    """The cache and the broker both at a Redis that is not there (Celery not eager)."""
    degraded._down_until.clear()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": DEAD_REDIS}}
    cache.clear()  # the process's memory standing in for Redis: from zero, as Redis is
    broker.down()
    yield broker
    cache.clear()
    degraded._down_until.clear()


def _new_rows(since: int) -> list[tuple[str, list[Any], bool, bool]]:
    """Outbox rows written after row ``since``: task, args, sent?, error recorded?"""
    return [
        (row.task, row.args, row.sent_at is not None, bool(row.last_error))
        for row in OutboxTask.objects.filter(pk__gt=since).order_by("pk")
    ]


def _settled() -> int:
    """Mark the rows the test's setup queued as sent; returns the last one's id."""
    OutboxTask.objects.filter(sent_at__isnull=True).update(sent_at=timezone.now())
    return OutboxTask.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _broker_back_and_beat(back: Broker) -> list[int]:
    """The broker is back; the beat relay runs twice (a second beat, a second worker)."""
    back.up()
    return [outbox_relay(), outbox_relay()]


# --- Writes that committed answer success; their work waits, then is sent once -------------------


def test_a_comment_answers_201_and_its_notification_e_mail_waits_for_the_broker(
    redis_down: Broker,
    community: Community,
    organiser: Membership,
    api: APIClient,
    django_capture_on_commit_callbacks: Capture,
    mailoutbox: list[Any],
) -> None:
    # given: an answer to comment on
    asker = add_member(community, profile={"handle": "asker"})
    author = add_member(community, profile={"handle": "author"})
    commenter = add_member(community, profile={"handle": "commenter"})
    written = answer(author, published(asker, moderator=organiser))
    before = _settled()
    api.force_authenticate(commenter.user)

    # when: Redis is down
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/answers/{written.pk}/comments/", {"body": "Why?"})

    # then: saved once and answered as saved; the e-mail's task waits in the outbox
    assert response.status_code == 201, response.content
    comment = Comment.objects.get(answer=written)
    notification = Notification.objects.get(comment=comment)
    assert notification.recipient == author.user
    assert _new_rows(before) == [
        ("questions.tasks.send_notification_email", [notification.pk], False, True)
    ]
    assert mailoutbox == []

    # when: the broker is back and the beat relay runs (twice)
    assert _broker_back_and_beat(redis_down) == [1, 0]

    # then: the task reached the broker once; a worker sends the e-mail
    assert redis_down.messages() == [("questions.tasks.send_notification_email", [notification.pk])]
    redis_down.work()
    assert [m.to for m in mailoutbox] == [[author.user.email]]
    assert _new_rows(before) == [
        ("questions.tasks.send_notification_email", [notification.pk], True, False)
    ]


def test_adding_a_member_answers_201_and_the_welcome_waits_for_the_broker(
    redis_down: Broker,
    community: Community,
    organiser: Membership,
    api: APIClient,
    django_capture_on_commit_callbacks: Capture,
    mailoutbox: list[Any],
) -> None:
    before = _settled()
    api.force_authenticate(organiser.user)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/communities/circle/members/", {"email": "new.person@example.com"}
        )
    # then
    assert response.status_code == 201, response.content
    membership = Membership.objects.get(user__email="new.person@example.com")
    assert _new_rows(before) == [
        ("members.tasks.send_member_added_email", [membership.pk, True], False, True)
    ]
    # when: the broker is back
    assert _broker_back_and_beat(redis_down) == [1, 0]
    # then
    assert redis_down.messages() == [
        ("members.tasks.send_member_added_email", [membership.pk, True])
    ]
    redis_down.work()
    assert [m.to for m in mailoutbox] == [["new.person@example.com"]]
    assert User.objects.filter(email="new.person@example.com").count() == 1


def test_a_valid_stripe_webhook_answers_200_and_is_processed_once_the_broker_is_back(
    fake_stripe: FakeStripe,
    redis_down: Broker,
    community: Community,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: someone paid through Stripe Checkout to join
    user = UserFactory(username="joiner", email="joiner@example.com")
    row = checkout.join_start(
        user=user,
        community=community,
        urls=lambda _row: ("http://testserver/done/", "http://testserver/cancelled/"),
    )
    event = fs.session_completed(fake_stripe.pay(row.stripe_session_id))
    before = _settled()

    # when: Stripe delivers the event while Redis is down
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, event)

    # then: acknowledged and stored; its processing waits in the outbox
    assert response.status_code == 200, response.content
    stored = StripeEvent.objects.get(event_id=event["id"])
    assert stored.status == StripeEvent.Status.RECEIVED
    assert _new_rows(before) == [("rewards.tasks.stripe_event_process", [stored.pk], False, True)]

    # when: the broker is back, the beat relay runs (twice) and a worker takes the task
    assert _broker_back_and_beat(redis_down) == [1, 0]
    assert redis_down.messages() == [("rewards.tasks.stripe_event_process", [stored.pk])]
    redis_down.work()

    # then: processed; the joiner is a member, paid once
    stored.refresh_from_db()
    assert stored.status == StripeEvent.Status.PROCESSED
    assert Membership.objects.get(user=user, community=community).status == "active"
    assert Payment.objects.filter(community=community).count() == 1

    # when: Stripe delivers it again: nothing more is queued
    after = _settled()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200
    assert (_new_rows(after), redis_down.messages()) == ([], [])


# --- Sign-in and rate limits on each process's memory -----------------------------------------


def test_an_api_token_is_issued_and_failed_attempts_still_limited_with_the_cache_down(
    redis_down: Broker, api: APIClient, db: None
) -> None:
    user = UserFactory()
    url = "/api/v1/auth/token/"
    # when: the right password
    response = api.post(url, {"username": user.email, "password": PASSWORD})
    # then
    assert response.status_code == 200, response.content
    assert response.json()["token"]
    # when: wrong passwords: allauth's 5 failures per account, counted in this process
    statuses = [
        api.post(url, {"username": user.email, "password": "wrong"}).status_code for _ in range(6)
    ]
    # then: limited, not open and not a 500
    assert statuses == [400] * 5 + [429]
    assert caches["default"].is_down()


def test_signing_in_on_the_page_works_and_failures_are_limited_with_the_cache_down(
    redis_down: Broker, client: Client, db: None
) -> None:
    user = UserFactory()
    assert client.get("/accounts/login/").status_code == 200
    for _ in range(5):
        assert (
            client.post("/accounts/login/", {"login": user.email, "password": "wrong"}).status_code
            == 200
        )
    refused = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert refused.status_code == 200
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session

    other = UserFactory()
    response = client.post("/accounts/login/", {"login": other.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)
    assert client.get("/").status_code == 200


# --- The cache, the health check, the last line of defence ---------------------------------------


def test_the_cache_answers_from_memory_while_redis_is_down_and_redis_again_once_back(
    broker: Broker, settings: Any
) -> None:
    degraded._down_until.clear()
    up = settings.CACHES["default"]
    settings.CACHES = {"default": {**up, "LOCATION": DEAD_REDIS}}
    cache.set("greeting", "hello")
    assert (cache.get("greeting"), cache.get("missing", "default")) == ("hello", "default")
    assert cache.add("greeting", "again") is False
    cache.set("count", 1)
    assert cache.incr("count") == 2
    assert caches["default"].is_down()
    settings.CACHES = {"default": up}
    assert caches["default"].reachable()
    assert not caches["default"].is_down()
    cache.set("greeting", "from redis")
    assert broker.redis.exists(cache.make_key("greeting")) == 1


def test_the_health_check_says_degraded_with_the_cache_down_and_tasks_waiting(
    redis_down: Broker, client: Client, db: None
) -> None:
    # given: a task the broker has not taken for a few minutes
    start = timezone.now()
    with time_machine.travel(start - datetime.timedelta(minutes=3), tick=False):
        OutboxTask.objects.create(task="members.tasks.send_member_added_email", args=[1, True])
    # when
    with time_machine.travel(start, tick=False):
        response = client.get("/healthz")
    # then: still serving, honestly degraded
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "cache": "unavailable",
        "queued_tasks_waiting": 1,
    }


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/api/v1/anything/", RedisConnectionError("Connection refused")),
        ("/c/circle/", OperationalError("Error 111 connecting to 127.0.0.1:1")),
    ],
)
def test_a_redis_or_broker_error_escaping_a_view_answers_503_not_500(
    path: str, error: Exception
) -> None:
    request = RequestFactory().get(path)
    middleware = degraded.ServiceUnavailableMiddleware(lambda r: None)
    response = middleware.process_exception(request, error)
    assert response is not None
    assert (response.status_code, response["Retry-After"]) == (503, "30")
    assert "temporarily unavailable" in response.content.decode()
    assert middleware.process_exception(request, ValueError("a bug")) is None


def test_a_page_whose_view_meets_a_redis_error_answers_503(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr("community.views.selectors.public_communities", refused)
    response = client.get("/")
    assert (response.status_code, response["Retry-After"]) == (503, "30")
    assert "Temporarily unavailable" in response.content.decode()
