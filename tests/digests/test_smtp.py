"""Digest e-mails through Django's SMTP backend to a real SMTP server on localhost (aiosmtpd):
the prepared-bytes path gives each recipient their own address, unsubscribe link and
Message-ID, in a well-formed message with both parts; and a worker killed outright leaves
at most RECORD_EVERY rows failed, never a second copy."""

from __future__ import annotations

import datetime
import email
import email.policy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings

from questions.digests import delivery, services
from questions.models import DigestDelivery
from tests.digests.helpers import closed_world, publish

pytestmark = pytest.mark.django_db
Delivery = DigestDelivery


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Sink]:
    sink = Sink()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its server by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield sink
    finally:
        controller.stop()


def test_each_recipient_gets_one_well_formed_copy_of_their_own(
    smtp: Sink,
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    w.people[5].user.language = "zh-hans"
    w.people[5].user.save(update_fields=["language"])
    smtp.messages.clear()
    digest = publish(w, django_capture_on_commit_callbacks)
    rows = list(Delivery.objects.filter(digest=digest).select_related("membership__user"))
    assert rows
    assert all(r.state == Delivery.State.SENT for r in rows)
    # one message per row, to that row's address alone
    assert sorted(to for tos, _data in smtp.messages for to in tos) == sorted(r.email for r in rows)
    by_address = {
        tos[0]: email.message_from_bytes(data, policy=email.policy.default)
        for tos, data in smtp.messages
    }
    message_ids = set()
    for row in rows:
        parsed = by_address[row.email]
        assert parsed["To"] == row.email
        prefix = f"<{django_settings.SITE_URL}/digests/unsubscribe/{row.membership_id}:"
        assert parsed["List-Unsubscribe"].startswith(prefix)
        assert (
            services.membership_for_token(
                parsed["List-Unsubscribe"].strip("<>").rstrip("/").rsplit("/", 1)[1]
            ).pk
            == row.membership_id
        )
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = parsed.get_body(("plain",)).get_content()
        html = parsed.get_body(("html",)).get_content()
        assert parsed["List-Unsubscribe"].strip("<>") in text
        assert parsed["List-Unsubscribe"].strip("<>") in html
        assert "The week in" in html
        message_ids.add(parsed["Message-ID"])
    assert len(message_ids) == len(rows)  # each copy its own Message-ID
    # the Chinese-speaking member's copy is in Chinese
    chinese = by_address[w.people[5].user.email]
    assert "周报" in chinese["Subject"]


def test_a_worker_killed_outright_fails_at_most_a_group_and_sends_nobody_twice(
    smtp: Sink,
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    # a digest queued but not sent: the dispatch's tasks are lost
    digest = publish(w, django_capture_on_commit_callbacks)
    Delivery.objects.filter(digest=digest).update(
        state=Delivery.State.QUEUED, sent_at=None, claim=None
    )
    smtp.messages.clear()
    ids = list(Delivery.objects.filter(digest=digest).order_by("pk").values_list("pk", flat=True))
    assert len(ids) > delivery.RECORD_EVERY + 5
    # a worker claimed the batch, sent (and recorded) the first 3, handed over 2 more without
    # recording them, and was killed (SIGKILL: no exception handler ran)
    claim, claimed = delivery._claim(digest.pk, ids[0], ids[-1])
    assert claimed == ids
    Delivery.objects.filter(pk__in=ids[:3]).update(state=Delivery.State.SENT, claim=None)
    # when the lease has run out, recovery runs and the batch is sent again
    time_machine.move_to(
        datetime.datetime.now(datetime.UTC) + delivery.LEASE + datetime.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        requeued = delivery.deliveries_recover()
    unrecorded = ids[3 : 3 + delivery.RECORD_EVERY]
    assert requeued == len(ids) - 3 - len(unrecorded)
    states = dict(Delivery.objects.filter(digest=digest).values_list("pk", "state"))
    assert all(states[pk] == Delivery.State.FAILED for pk in unrecorded)
    assert all(states[pk] == Delivery.State.SENT for pk in ids if pk not in unrecorded)
    # nobody the dead worker may have reached gets a second copy
    sent_now = [to for tos, _data in smtp.messages for to in tos]
    emails = dict(Delivery.objects.filter(digest=digest).values_list("pk", "email"))
    assert sorted(sent_now) == sorted(emails[pk] for pk in ids[3 + delivery.RECORD_EVERY :])
    assert claim is not None
