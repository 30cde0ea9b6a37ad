"""E-mailing a published digest (SPEC §2.7; questions/digests/delivery.py): one delivery row
per eligible member, sent once even when publishing or queueing runs twice, when the worker
dies mid-batch, or when the mail server fails; each e-mail in the recipient's language with an
HTML and a plain-text part and the RFC 8058 one-click unsubscribe headers.

The mail server is the only thing faked (tests/digests/delivery_helpers.FakeMailServer, a
locmem backend); PostgreSQL, Redis and the Celery tasks (eager in tests) are real."""

from __future__ import annotations

import datetime
import re
import smtplib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, connections, transaction

from questions.digests import delivery, services
from questions.digests.models import Digest, DigestDelivery
from tests.digests import delivery_helpers as h

pytestmark = pytest.mark.django_db

State = DigestDelivery.State
LINK = re.compile(r"^<(?P<url>https?://[^>]+/digests/unsubscribe/(?P<token>[^/>]+)/)>$")


@pytest.fixture
def now(time_machine: Any) -> datetime.datetime:
    time_machine.move_to(h.AFTER_W45)
    return h.AFTER_W45


@pytest.fixture
def people(now: datetime.datetime) -> h.Cast:
    return h.cast()


def by_address(messages: list[Any]) -> dict[str, Any]:
    return {m.to[0].lower(): m for m in messages}


def token_member(message: Any) -> int:
    match = LINK.match(message.extra_headers["List-Unsubscribe"])
    assert match, message.extra_headers["List-Unsubscribe"]
    return services.membership_for_token(match["token"]).pk


# --- Who gets a row ------------------------------------------------------------------------------


def test_one_row_and_one_e_mail_per_eligible_member_and_none_for_the_others(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)

    found = h.rows(digest)
    assert set(found) == h.ids(people.eligible)
    assert not set(found) & h.ids(people.ineligible)
    assert {d.state for d in found.values()} == {State.SENT}
    assert all(d.sent_at is not None and d.attempts == 1 for d in found.values())
    assert {d.email.lower() for d in found.values()} == {h.address_of(m) for m in people.eligible}
    # and each of them received exactly one e-mail; nobody else did
    assert h.copies() == {h.address_of(m): 1 for m in people.eligible}
    assert delivery.counts(digest) == {
        "queued": 0,
        "sending": 0,
        "sent": len(people.eligible),
        "failed": 0,
    }


def test_undeliverable_addresses_are_skipped_whatever_their_case(
    now: datetime.datetime, django_capture_on_commit_callbacks: h.Capture
) -> None:
    community = h.make_community(slug="casey")
    organiser = h.organiser_of(community)
    upper = h.member(community, "upper", email="SHOUT@Example.org")
    lower = h.member(community, "lower", email="quiet@example.org")
    h.member_mail.address_undeliverable_mark(email="shout@EXAMPLE.org", reason="bounced")
    h.member_mail.address_undeliverable_mark(email="QUIET@example.org", reason="complained")

    digest = h.published(community, organiser, django_capture_on_commit_callbacks)

    assert set(h.rows(digest)) == {organiser.pk}
    assert not {upper.pk, lower.pk} & set(h.rows(digest))
    assert set(h.copies()) == {h.address_of(organiser)}


def test_publishing_twice_and_queueing_twice_add_nobody_and_send_nothing_again(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    first = {pk: (d.pk, d.sent_at) for pk, d in h.rows(digest).items()}
    assert len(mail.outbox) == len(people.eligible)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.digest_publish(digest=digest, publisher=people.organiser)
    assert again.is_published
    assert callbacks == []  # publishing a published digest queues nothing
    assert delivery.deliveries_queue(digest.pk) == 0
    assert delivery.deliveries_queue(digest.pk) == 0
    # a member who joins afterwards is not added by queueing again either
    late = h.member(people.community, "late")
    assert delivery.deliveries_queue(digest.pk) == 0

    assert {pk: (d.pk, d.sent_at) for pk, d in h.rows(digest).items()} == first
    assert late.pk not in h.rows(digest)
    assert len(mail.outbox) == len(people.eligible)
    assert set(h.copies().values()) == {1}


def test_a_second_delivery_run_of_the_same_ids_sends_nothing(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    ids = sorted(d.pk for d in h.rows(digest).values())
    # a task delivered twice by the broker (acks late) finds nothing queued
    assert delivery.batch_send(digest.pk, ids[0], ids[-1]) == delivery.BatchResult(0, 0, 0)
    assert delivery.deliveries_dispatch(digest.pk) == 0
    assert len(mail.outbox) == len(people.eligible)


def test_a_draft_queues_nothing(people: h.Cast) -> None:
    digest = h.draft(people.community)
    assert delivery.deliveries_queue(digest.pk) == 0
    assert not DigestDelivery.objects.exists()
    assert mail.outbox == []
    digest.refresh_from_db()
    assert digest.deliveries_queued_at is None


def test_members_who_turned_e_mails_back_on_get_the_next_digest(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    services.digest_emails_set(membership=people.members[0], on=False)
    first = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    assert people.members[0].pk not in h.rows(first)

    services.digest_emails_set(membership=people.members[0], on=True)
    services.digest_emails_set(membership=people.opted_out, on=True)
    second = h.published(
        people.community, people.organiser, django_capture_on_commit_callbacks, week=h.W46
    )
    assert {people.members[0].pk, people.opted_out.pk} <= set(h.rows(second))


def test_batches_follow_the_batch_size(
    people: h.Cast, settings: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    settings.DIGEST_BATCH_SIZE = 2
    h.fake_mail_server(settings)
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    assert h.copies() == {h.address_of(m): 1 for m in people.eligible}
    assert {d.state for d in h.rows(digest).values()} == {State.SENT}


# --- Each e-mail ---------------------------------------------------------------------------------


def test_each_e_mail_has_text_html_and_the_member_s_own_one_click_unsubscribe(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    messages = by_address(h.digest_messages())
    tokens = set()
    for membership in people.eligible:
        message = messages[h.address_of(membership)]
        assert [a.lower() for a in message.to] == [h.address_of(membership)]
        # plain text, and an HTML alternative
        assert message.content_subtype == "plain"
        assert "talk to users first" in message.body
        assert "<strong>" not in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert "<strong>talk to users first</strong>" in html
        assert digest.label in message.subject
        # RFC 8058: the member's own signed HTTPS link, and the one-click POST header
        unsubscribe = message.extra_headers["List-Unsubscribe"]
        match = LINK.match(unsubscribe)
        assert match, unsubscribe
        assert match["url"].startswith(django_settings.SITE_URL + "/digests/unsubscribe/")
        assert token_member(message) == membership.pk
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # the same link in both bodies, no placeholder left behind
        assert match["url"] in message.body
        assert match["url"] in html
        assert delivery.UNSUBSCRIBE_PLACEHOLDER not in message.body + html
        tokens.add(match["token"])
        # the headers survive into the MIME message handed to the server
        mime = message.message()
        assert mime["List-Unsubscribe"] == unsubscribe
        assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mime.get_content_type() == "multipart/alternative"
    assert len(tokens) == len(people.eligible)


def test_the_unsubscribe_link_uses_the_site_url(
    people: h.Cast, settings: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    settings.SITE_URL = "https://learn.example.cn"
    h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    for message in h.digest_messages():
        link = message.extra_headers["List-Unsubscribe"]
        assert link.startswith("<https://learn.example.cn/digests/unsubscribe/"), link


def test_each_e_mail_is_written_in_the_recipient_s_language(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    messages = by_address(h.digest_messages())
    zh = messages[h.address_of(people.zh)]
    en = messages[h.address_of(people.members[0])]
    [(zh_html, _)] = zh.alternatives
    [(en_html, _)] = en.alternatives
    # the fund statement's labels are translated already
    assert "奖励预算" in zh.body
    assert "运营预算" in zh.body
    assert "奖励预算" in zh_html
    assert "Reward budget" in en.body
    assert "奖励预算" not in en.body
    assert "Reward budget" in en_html
    assert "奖励预算" not in en_html
    # a member with no language gets the site's
    assert messages[h.address_of(people.moderator)].body == en.body.replace(
        token_url(en), token_url(messages[h.address_of(people.moderator)])
    )


def token_url(message: Any) -> str:
    match = LINK.match(message.extra_headers["List-Unsubscribe"])
    assert match
    return match["url"]


def test_the_subject_and_footer_are_in_chinese_for_a_chinese_reader(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    messages = by_address(h.digest_messages())
    zh, en = messages[h.address_of(people.zh)], messages[h.address_of(people.members[0])]
    assert en.subject == "Digest Land: the digest of 2026-W45"
    assert zh.subject == "Digest Land：2026-W45 周报"
    assert "Stop these e-mails" in en.body
    assert "Stop these e-mails" not in zh.body
    assert "不再接收这类邮件" in zh.body


def test_the_html_part_declares_the_recipient_s_language(
    people: h.Cast, django_capture_on_commit_callbacks: h.Capture
) -> None:
    h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    messages = by_address(h.digest_messages())
    [(zh_html, _)] = messages[h.address_of(people.zh)].alternatives
    [(en_html, _)] = messages[h.address_of(people.members[0])].alternatives
    assert '<html lang="en">' in en_html
    assert '<html lang="zh-hans">' in zh_html


def test_a_test_send_goes_to_the_curator_alone_with_no_row(
    people: h.Cast,
) -> None:
    digest = h.draft(people.community)
    services.digest_curate(digest=digest, editor=people.organiser, summary="Preview me.")
    delivery.test_send(digest=digest, to=people.organiser)
    [message] = mail.outbox
    assert message.to == [people.organiser.user.email]
    assert message.subject.startswith("[Test]")
    assert not DigestDelivery.objects.exists()
    with pytest.raises(delivery.services.PermissionDenied):
        delivery.test_send(digest=digest, to=people.members[0])
    assert len(mail.outbox) == 1


# --- A worker that dies mid-batch ----------------------------------------------------------------


def crash_publishing(
    people: h.Cast,
    capture: h.Capture,
    settings: Any,
    *,
    after: int,
    hand_over: bool,
    crash: type[BaseException] = h.WorkerLost,
) -> tuple[Digest, h.Plan]:
    """Publish with a server that stops the worker after ``after`` messages; the crash comes
    out of the eager send task, through the publish. Returns the digest."""
    plan = h.fake_mail_server(settings)
    plan.crash_after, plan.hand_over, plan.crash = after, hand_over, crash
    digest = h.draft(people.community)
    with pytest.raises(crash):
        h.publish(digest, people.organiser, capture)
    digest.refresh_from_db()
    assert digest.is_published
    return digest, plan


def settle(digest: Digest) -> dict[int, DigestDelivery]:
    """Every row has reached its end (sent or failed); nobody has two copies."""
    final = h.rows(digest)
    assert {d.state for d in final.values()} <= {State.SENT, State.FAILED}
    assert all(d.claim is None for d in final.values())
    received = h.copies()
    assert max(received.values(), default=1) == 1, received
    for row in final.values():
        if row.state == State.SENT:
            assert received[row.email.lower()] == 1
    return final


@pytest.mark.parametrize(
    ("hand_over", "crash"),
    [(False, h.WorkerLost), (True, h.WorkerLost), (True, h.SoftTimeLimitExceeded)],
    ids=["before-hand-over", "after-hand-over", "soft-time-limit"],
)
def test_a_worker_stopped_mid_batch_sends_nobody_two_copies_and_the_rest_get_theirs(
    people: h.Cast,
    settings: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: h.Capture,
    hand_over: bool,
    crash: type[BaseException],
) -> None:
    digest, plan = crash_publishing(
        people,
        django_capture_on_commit_callbacks,
        settings,
        after=2,
        hand_over=hand_over,
        crash=crash,
    )
    ordered = sorted(h.rows(digest).values(), key=lambda d: d.pk)
    interrupted = ordered[2]
    assert len(mail.outbox) == (3 if hand_over else 2)

    # the beat job, past the lease: what is still to send is sent, once
    time_machine.move_to(h.AFTER_W45 + delivery.LEASE + datetime.timedelta(minutes=1))
    delivery.deliveries_recover()
    # and again, the way the beat job, a redelivered task and a second publish would
    delivery.deliveries_recover()
    assert delivery.deliveries_queue(digest.pk) == 0
    ids = [d.pk for d in ordered]
    assert delivery.batch_send(digest.pk, ids[0], ids[-1]) == delivery.BatchResult(0, 0, 0)

    final = settle(digest)
    # the message being handed over when the worker stopped may have left: never resent
    assert final[interrupted.membership_id].state == State.FAILED
    assert final[interrupted.membership_id].error == delivery.INTERRUPTED
    assert plan.attempts.count(interrupted.email.lower()) == 1
    # everyone else has theirs, once
    assert {d.state for pk, d in final.items() if pk != interrupted.membership_id} == {State.SENT}
    expected = {d.email.lower() for d in ordered}
    if not hand_over:
        expected.discard(interrupted.email.lower())
    assert set(h.copies()) == expected
    assert len(mail.outbox) == len(expected)


def killed_outright(people: h.Cast, capture: h.Capture, settings: Any) -> Digest:
    """A published digest whose rows a worker claimed and was then killed (SIGKILL: no Python
    code ran after the claim): the rows stay ``sending`` under its claim."""
    plan = h.fake_mail_server(settings)
    plan.crash_after = 0  # the first batch stops at once...
    digest = h.draft(people.community)
    with pytest.raises(h.WorkerLost):
        h.publish(digest, people.organiser, capture)
    # ...then the next worker claims what is left and is killed before sending anything
    queued = list(
        DigestDelivery.objects.filter(digest=digest, state=State.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(queued) >= 2
    _claim, claimed = delivery._claim(digest.pk, queued[0], queued[-1])
    assert claimed == queued
    return digest


def test_a_killed_worker_s_claim_is_left_alone_during_its_lease_then_recovered(
    people: h.Cast,
    settings: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: h.Capture,
) -> None:
    digest = killed_outright(people, django_capture_on_commit_callbacks, settings)
    held = {pk: d.claim for pk, d in h.rows(digest).items() if d.state == State.SENDING}
    assert held
    assert len(set(held.values())) == 1
    before = len(mail.outbox)

    # another batch over the same ids (a redelivered task, a second worker) takes none
    ids = sorted(d.pk for d in h.rows(digest).values())
    assert delivery.batch_send(digest.pk, ids[0], ids[-1]) == delivery.BatchResult(0, 0, 0)
    # the beat job leaves a claim within its lease alone: the worker may still be sending
    time_machine.move_to(h.AFTER_W45 + delivery.LEASE - datetime.timedelta(minutes=1))
    assert delivery.deliveries_recover() == 0
    assert {pk: d.claim for pk, d in h.rows(digest).items() if pk in held} == held
    assert len(mail.outbox) == before

    # past the lease the claim is released; what may have been handed over unrecorded is
    # failed, never resent
    time_machine.move_to(h.AFTER_W45 + delivery.LEASE + datetime.timedelta(minutes=1))
    delivery.deliveries_recover()
    delivery.deliveries_recover()
    final = settle(digest)
    for pk in held:
        assert final[pk].state == State.SENT or final[pk].error == delivery.INTERRUPTED


@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_a_live_batch_are_skipped_not_waited_for(
    settings: Any, time_machine: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    """Another worker's connection holds two rows' locks (a batch in the middle of claiming
    them): a concurrent batch skips those (SKIP LOCKED) instead of waiting, and sends the rest;
    once the lock is gone the next batch sends the two."""
    time_machine.move_to(h.AFTER_W45)
    people = h.cast(members=2)
    plan = h.fake_mail_server(settings)
    plan.crash_after = 0  # the first worker dies before sending anything...
    digest = h.draft(people.community)
    with pytest.raises(h.WorkerLost):
        h.publish(digest, people.organiser, django_capture_on_commit_callbacks)
    # ...and its rows are back in the queue (as recovery puts them)
    DigestDelivery.objects.filter(digest=digest).update(
        state=State.QUEUED, claim=None, claimed_at=None
    )
    ordered = sorted(h.rows(digest).values(), key=lambda d: d.pk)
    locked = {ordered[0].pk, ordered[2].pk}
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_worker() -> None:
        try:
            with transaction.atomic():
                list(DigestDelivery.objects.select_for_update().filter(pk__in=locked))
                holding.set()
                release.wait(timeout=30)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
            holding.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # waiting instead of skipping: an error
        result = delivery.batch_send(digest.pk, ordered[0].pk, ordered[-1].pk)
        after = h.rows(digest)
        assert result == delivery.BatchResult(len(ordered) - 2, 0, 0)
        assert {d.pk for d in after.values() if d.state == State.QUEUED} == locked
        assert {d.state for d in after.values() if d.pk not in locked} == {State.SENT}
    finally:
        release.set()
        thread.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert errors == []
    assert delivery.batch_send(digest.pk, ordered[0].pk, ordered[-1].pk).sent == 2
    assert h.copies() == {d.email.lower(): 1 for d in ordered}


def test_an_address_reported_undeliverable_after_queueing_is_not_sent_to(
    people: h.Cast,
    settings: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: h.Capture,
) -> None:
    digest, _plan = crash_publishing(
        people, django_capture_on_commit_callbacks, settings, after=0, hand_over=False
    )
    ordered = sorted(h.rows(digest).values(), key=lambda d: d.pk)
    bounced = ordered[-1]
    h.member_mail.address_undeliverable_mark(email=bounced.email.upper(), reason="bounced")
    time_machine.move_to(h.AFTER_W45 + delivery.LEASE + datetime.timedelta(minutes=1))
    delivery.deliveries_recover()
    final = h.rows(digest)
    assert final[bounced.membership_id].state == State.FAILED
    assert final[bounced.membership_id].error == "undeliverable address"
    assert bounced.email.lower() not in h.copies()
    assert {d.state for d in final.values() if d.pk not in (ordered[0].pk, bounced.pk)} == {
        State.SENT
    }


# --- The mail server's errors --------------------------------------------------------------------


@pytest.mark.parametrize("error", [h.disconnected, h.busy], ids=["disconnected", "421"])
def test_a_transient_error_puts_the_rest_back_and_they_are_retried(
    people: h.Cast,
    settings: Any,
    django_capture_on_commit_callbacks: h.Capture,
    error: Any,
) -> None:
    plan = h.fake_mail_server(settings)
    plan.fail_at[2] = error()  # the server takes two messages, then fails once on the third
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)

    ordered = sorted(h.rows(digest).values(), key=lambda d: d.pk)
    assert plan.fail_at == {}
    assert {d.state for d in ordered} == {State.SENT}
    assert [d.attempts for d in ordered] == [1, 1] + [2] * (len(ordered) - 2)
    assert all(d.error == "" for d in ordered)
    assert h.copies() == {d.email.lower(): 1 for d in ordered}
    # the third address was tried twice: once failing, once accepted
    assert plan.attempts.count(ordered[2].email.lower()) == 2


def test_a_transient_error_on_connecting_puts_the_batch_back(
    people: h.Cast, settings: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    plan = h.fake_mail_server(settings)
    plan.open_errors = [ConnectionRefusedError(111, "Connection refused"), h.busy()]
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    ordered = h.rows(digest).values()
    assert plan.open_errors == []
    assert {d.state for d in ordered} == {State.SENT}
    assert {d.attempts for d in ordered} == {3}
    assert h.copies() == {d.email.lower(): 1 for d in ordered}


def test_a_permanent_refusal_fails_that_row_and_the_batch_goes_on(
    people: h.Cast,
    settings: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: h.Capture,
) -> None:
    plan = h.fake_mail_server(settings)
    refused = h.address_of(people.members[1])
    plan.refuse[refused] = h.unknown_user(refused)
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)

    final = h.rows(digest)
    row = final[people.members[1].pk]
    assert row.state == State.FAILED
    assert "550" in row.error
    assert "No such user" in row.error
    assert row.sent_at is None
    assert row.claim is None
    assert {d.state for pk, d in final.items() if pk != people.members[1].pk} == {State.SENT}
    assert set(h.copies()) == {h.address_of(m) for m in people.eligible} - {refused}
    # a failed row is final: neither recovery nor queueing again tries it
    time_machine.move_to(h.AFTER_W45 + datetime.timedelta(hours=2))
    del plan.refuse[refused]
    delivery.deliveries_recover()
    delivery.deliveries_queue(digest.pk)
    assert h.rows(digest)[people.members[1].pk].state == State.FAILED
    assert refused not in h.copies()
    assert plan.attempts.count(refused) == 1


def test_a_server_that_keeps_failing_fails_the_rows_after_max_attempts(
    people: h.Cast, settings: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    plan = h.fake_mail_server(settings)
    plan.fail_always = h.disconnected()
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)

    final = h.rows(digest).values()
    assert {d.state for d in final} == {State.FAILED}
    assert {d.attempts for d in final} == {delivery.MAX_ATTEMPTS}
    assert all("SMTPServerDisconnected" in d.error for d in final)
    assert all(d.claim is None for d in final)
    assert mail.outbox == []
    # every attempt stopped at the batch's first row: MAX_ATTEMPTS tries in all
    assert len(plan.attempts) == delivery.MAX_ATTEMPTS


def test_one_recipient_s_temporary_refusal_does_not_stop_the_rest_of_the_batch(
    people: h.Cast, settings: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    plan = h.fake_mail_server(settings)
    full = h.address_of(people.members[1])
    plan.refuse[full] = smtplib.SMTPRecipientsRefused({full: (452, b"4.2.2 Mailbox full")})
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)

    others = {h.address_of(m) for m in people.eligible} - {full}
    assert h.copies() == dict.fromkeys(others, 1)
    final = h.rows(digest)
    assert {d.state for pk, d in final.items() if pk != people.members[1].pk} == {State.SENT}


def test_a_permanent_error_on_connecting_loses_nobody_s_digest(
    people: h.Cast,
    settings: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: h.Capture,
) -> None:
    plan = h.fake_mail_server(settings)
    plan.open_errors = [smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials")]
    digest = h.draft(people.community)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        h.publish(digest, people.organiser, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    # the operator fixes the credentials; the beat job recovers and sends
    time_machine.move_to(h.AFTER_W45 + delivery.LEASE + datetime.timedelta(minutes=1))
    delivery.deliveries_recover()
    assert h.copies() == {h.address_of(m): 1 for m in people.eligible}


# --- Through the real week close -----------------------------------------------------------------


def test_the_week_close_s_digest_reaches_every_active_member_once_in_their_language(
    time_machine: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    from community import weekly
    from members.models import User
    from tests.rewards.weekly_helpers import W45, voted_week

    week = voted_week(time_machine)
    organiser = week.organiser
    readers = week.members
    User.objects.filter(pk=readers[7].user_id).update(language="zh-hans")
    services.digest_emails_set(membership=readers[8], on=False)
    h.set_status(readers[9], "lapsed")
    weekly.week_close(community=week.community, week=W45)
    digest = Digest.objects.get(community=week.community, week=W45)
    assert not digest.is_published
    mail.outbox.clear()  # the close's own notices

    digest = h.publish(digest, organiser, django_capture_on_commit_callbacks)
    h.publish(digest, organiser, django_capture_on_commit_callbacks)  # twice: nothing more
    delivery.deliveries_queue(digest.pk)

    expected = [organiser] + [m for m in readers if m not in (readers[8], readers[9])]
    assert set(h.rows(digest)) == h.ids(expected)
    assert h.copies() == {h.address_of(m): 1 for m in expected}
    assert len(mail.outbox) == len(expected)
    messages = by_address(h.digest_messages())
    en = messages[h.address_of(readers[0])]
    [(en_html, _)] = en.alternatives
    # the week's questions, its winners and its ranked answers are in both parts
    for question in week.questions:
        assert question.title in en.body
        assert question.title in en_html
    assert "The week's winners" in en.body
    assert "Read the whole answer" in en_html
    [(zh_html, _)] = messages[h.address_of(readers[7])].alternatives
    assert "阅读完整回答" in zh_html
    assert "Read the whole answer" not in zh_html
    assert token_member(messages[h.address_of(readers[7])]) == readers[7].pk


def test_a_published_digest_whose_queueing_task_was_lost_is_still_e_mailed(
    people: h.Cast, time_machine: Any, django_capture_on_commit_callbacks: h.Capture
) -> None:
    digest = h.draft(people.community)
    with django_capture_on_commit_callbacks(execute=False) as lost:
        services.digest_curate(digest=digest, editor=people.organiser, summary="Lost task.")
        services.digest_publish(digest=digest, publisher=people.organiser)
    assert len(lost) == 1  # the queueing task, never delivered to a worker
    digest.refresh_from_db()
    assert digest.is_published
    # publishing again changes nothing: the digest is published already
    with django_capture_on_commit_callbacks(execute=True) as again:
        services.digest_publish(digest=digest, publisher=people.organiser)
    assert again == []
    time_machine.move_to(h.AFTER_W45 + delivery.LEASE + datetime.timedelta(minutes=1))
    delivery.deliveries_recover()
    assert h.copies() == {h.address_of(m): 1 for m in people.eligible}


# --- Over SMTP, to a real server on 127.0.0.1 ----------------------------------------------------


@pytest.fixture
def sink(settings: Any, now: datetime.datetime) -> Iterator[h.Sink]:
    yield from h.smtp_sink(settings)


def test_over_smtp_each_member_gets_one_complete_message_of_their_own(
    people: h.Cast, sink: h.Sink, django_capture_on_commit_callbacks: h.Capture
) -> None:
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)

    by_member = {h.address_of(m): m for m in people.eligible}
    assert sink.copies() == dict.fromkeys(by_member, 1)
    assert {d.state for d in h.rows(digest).values()} == {State.SENT}
    message_ids = set()
    for received in sink.received:
        [to] = received.rcpt_tos
        member = by_member[to.lower()]
        assert b"digest-recipient.invalid" not in received.data
        assert delivery.UNSUBSCRIBE_PLACEHOLDER.encode() not in received.data
        message = received.message
        assert message["To"].lower() == to.lower()
        assert digest.label in message["Subject"]
        message_ids.add(message["Message-ID"])
        match = LINK.match(message["List-Unsubscribe"])
        assert match, message["List-Unsubscribe"]
        assert services.membership_for_token(match["token"]).pk == member.pk
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert match["url"] in text
        assert match["url"] in html
        assert "talk to users first" in text
        assert "<strong>talk to users first</strong>" in html
        if member == people.zh:
            assert "不再接收这类邮件" in text
            assert "周报" in message["Subject"]
        else:
            assert "Stop these e-mails" in text
    assert len(message_ids) == len(people.eligible)


def test_over_smtp_a_refused_recipient_fails_alone(
    people: h.Cast, sink: h.Sink, django_capture_on_commit_callbacks: h.Capture
) -> None:
    refused = h.address_of(people.members[0])
    sink.refuse[refused] = "550 5.1.1 No such user here"
    digest = h.published(people.community, people.organiser, django_capture_on_commit_callbacks)
    final = h.rows(digest)
    assert final[people.members[0].pk].state == State.FAILED
    assert "550" in final[people.members[0].pk].error
    assert {d.state for pk, d in final.items() if pk != people.members[0].pk} == {State.SENT}
    assert sink.copies() == {h.address_of(m): 1 for m in people.eligible if m != people.members[0]}
