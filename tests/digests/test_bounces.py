"""The provider's verdicts on addresses, through django-anymail's Postmark tracking webhook
(mounted at /anymail/, basic auth): a hard bounce, a spam complaint or a provider-side
unsubscribe marks the address undeliverable (members.mail), so the next digest queues nothing
for it and ``members.mail.send_to`` skips it; deliveries, opens and transient bounces mark
nothing; an unauthenticated report changes nothing. The payloads are Postmark's documented
webhook bodies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from members import mail as member_mail
from members.models import Membership, UndeliverableAddress
from tests.digests import delivery_helpers as h

pytestmark = pytest.mark.django_db

WEBHOOK = "/anymail/postmark/tracking/"
SECRET = "postmark-hook:s3cret-Pa55"


@pytest.fixture
def people(time_machine: Any, settings: Any) -> h.Cast:
    time_machine.move_to(h.AFTER_W45)
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    return h.cast(slug="bouncy", members=2)


def auth(secret: str = SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def post(client: Client, payload: dict[str, Any], **headers: str) -> Any:
    return client.post(
        WEBHOOK, data=json.dumps(payload), content_type="application/json", **headers
    )


def bounce(email: str, kind: str = "HardBounce", code: int = 1) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": code,
        "Name": "Hard bounce",
        "Tag": "digest",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message "
        "(ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "noreply@example.cn",
        "BouncedAt": "2026-11-09T02:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Digest Land: the digest of 2026-W45",
        "Content": "Return-Path:<>\nReceived: …",
    }


def complaint(email: str) -> dict[str, Any]:
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "digest",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Metadata": {},
        "ServerID": 1234,
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
        "Email": email,
        "From": "noreply@example.cn",
        "BouncedAt": "2026-11-09T02:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Digest Land: the digest of 2026-W45",
    }


def delivered(email: str) -> dict[str, Any]:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": email,
        "Tag": "digest",
        "DeliveredAt": "2026-11-09T02:33:54.9070259Z",
        "Details": "Test delivery webhook details",
        "Metadata": {},
    }


def opened(email: str) -> dict[str, Any]:
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Client": {"Name": "Chrome", "Company": "Google", "Family": "Chrome"},
        "OS": {"Name": "OS X", "Company": "Apple", "Family": "OS X"},
        "Platform": "Desktop",
        "UserAgent": "Mozilla/5.0",
        "ReadSeconds": 5,
        "Geo": {},
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ReceivedAt": "2026-11-09T02:33:54.9070259Z",
        "Tag": "digest",
        "Recipient": email,
    }


def subscription_change(email: str, reason: str, suppress: bool = True) -> dict[str, Any]:
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 123456,
        "MessageStream": "outbound",
        "ChangedAt": "2026-11-09T02:33:54.9070259Z",
        "Recipient": email,
        "Origin": "Recipient",
        "SuppressSending": suppress,
        "SuppressionReason": reason,
        "Tag": "digest",
        "Metadata": {},
    }


BOUNCED_BEFORE = "bouncy.person@example.com"  # the cast's member whose address bounced already


def verdicts() -> list[UndeliverableAddress]:
    """The addresses marked in the test (not the cast's)."""
    return list(UndeliverableAddress.objects.exclude(email=BOUNCED_BEFORE))


def next_digest_rows(people: h.Cast, capture: h.Capture) -> set[int]:
    digest = h.published(people.community, people.organiser, capture)
    return set(h.rows(digest))


def send_a_notice(membership: Membership) -> None:
    member_mail.send_to(
        membership.user,
        subject="digests/email/draft_subject.txt",
        body="digests/email/draft_body.txt",
        context={
            "community": membership.community,
            "digest": h.draft(membership.community),
            "due": h.AFTER_W45,
            "url": "https://example.cn/",
        },
    )


def test_a_hard_bounce_marks_the_address_and_stops_the_digest_and_other_mail(
    people: h.Cast, client: Client, django_capture_on_commit_callbacks: h.Capture
) -> None:
    target = people.members[0]
    address = h.address_of(target)

    response = post(client, bounce(address.upper()), **auth())

    assert response.status_code == 200
    [marked] = verdicts()
    assert marked.email == address
    assert marked.reason == UndeliverableAddress.Reason.BOUNCED
    assert marked.provider == "Postmark"
    assert "unable to deliver" in marked.detail
    assert not member_mail.is_deliverable(target.user.email)
    # the next digest queues nothing for it, and everyone else as before
    assert next_digest_rows(people, django_capture_on_commit_callbacks) == h.ids(
        people.eligible
    ) - {target.pk}
    assert address not in h.copies()
    # nor does any other e-mail go to it
    mail.outbox.clear()
    send_a_notice(target)
    assert mail.outbox == []
    send_a_notice(people.members[1])
    assert [m.to for m in mail.outbox] == [[people.members[1].user.email]]


def test_a_spam_complaint_marks_the_address(
    people: h.Cast, client: Client, django_capture_on_commit_callbacks: h.Capture
) -> None:
    target = people.zh
    response = post(client, complaint(target.user.email), **auth())
    assert response.status_code == 200
    [marked] = verdicts()
    assert (marked.email, marked.reason) == (
        h.address_of(target),
        UndeliverableAddress.Reason.COMPLAINED,
    )
    assert target.pk not in next_digest_rows(people, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    send_a_notice(target)
    assert mail.outbox == []


def test_an_unsubscribe_at_the_provider_marks_the_address(
    people: h.Cast, client: Client, django_capture_on_commit_callbacks: h.Capture
) -> None:
    target = people.members[1]
    payload = subscription_change(target.user.email, "ManualSuppression")
    assert post(client, payload, **auth()).status_code == 200
    [marked] = verdicts()
    assert marked.reason == UndeliverableAddress.Reason.UNSUBSCRIBED
    assert target.pk not in next_digest_rows(people, django_capture_on_commit_callbacks)


@pytest.mark.parametrize(
    "payload",
    [
        delivered,
        opened,
        lambda email: bounce(email, kind="Transient", code=2),
        lambda email: bounce(email, kind="DnsError", code=8192),
        lambda email: bounce(email, kind="AutoResponder", code=16),
        lambda email: subscription_change(email, "ManualSuppression", suppress=False),
    ],
    ids=["delivered", "opened", "transient", "dns-error", "auto-responder", "resubscribed"],
)
def test_events_that_are_no_verdict_mark_nothing(
    people: h.Cast,
    client: Client,
    django_capture_on_commit_callbacks: h.Capture,
    payload: Any,
) -> None:
    target = people.members[0]
    assert post(client, payload(target.user.email), **auth()).status_code == 200
    assert verdicts() == []
    assert target.pk in next_digest_rows(people, django_capture_on_commit_callbacks)
    assert h.copies()[h.address_of(target)] == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        auth("postmark-hook:wrong"),
        auth("someone:" + SECRET.split(":", 1)[1]),
        {"HTTP_AUTHORIZATION": "Bearer " + SECRET},
        {"HTTP_AUTHORIZATION": "Basic not-base64!"},
    ],
    ids=["none", "wrong-password", "wrong-user", "bearer", "garbled"],
)
def test_a_report_without_the_webhook_s_credentials_changes_nothing(
    people: h.Cast,
    client: Client,
    django_capture_on_commit_callbacks: h.Capture,
    headers: dict[str, str],
) -> None:
    target = people.members[0]
    for payload in (bounce(target.user.email), complaint(target.user.email)):
        response = post(client, payload, **headers)
        assert response.status_code in (400, 401, 403), response.status_code
    assert verdicts() == []
    assert target.pk in next_digest_rows(people, django_capture_on_commit_callbacks)


def test_the_first_verdict_is_kept_and_repeats_are_harmless(people: h.Cast, client: Client) -> None:
    address = people.members[0].user.email
    assert post(client, bounce(address), **auth()).status_code == 200
    assert post(client, bounce(address.upper()), **auth()).status_code == 200
    assert post(client, complaint(address), **auth()).status_code == 200
    [marked] = verdicts()
    assert marked.reason == UndeliverableAddress.Reason.BOUNCED


@pytest.mark.parametrize(
    "email",
    ["", "not-an-address", "a" * 250 + "@example.com", "   "],
    ids=["empty", "no-at", "too-long", "blank"],
)
def test_a_report_with_no_usable_address_marks_nothing_and_is_no_error(
    people: h.Cast, client: Client, email: str
) -> None:
    assert post(client, bounce(email), **auth()).status_code == 200
    assert verdicts() == []


def test_the_webhook_marks_the_address_not_the_person(
    people: h.Cast, client: Client, django_capture_on_commit_callbacks: h.Capture
) -> None:
    """A member who changes their address after a bounce receives the digest again."""
    target = people.members[0]
    assert post(client, bounce(target.user.email), **auth()).status_code == 200
    type(target.user).objects.filter(pk=target.user_id).update(email="fixed@example.org")
    assert target.pk in next_digest_rows(people, django_capture_on_commit_callbacks)
    assert h.copies()["fixed@example.org"] == 1
