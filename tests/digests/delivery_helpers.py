"""Builders for the digest delivery, unsubscribe, feed and bounce tests: a small community
with one member of every kind the delivery must tell apart, a digest drafted and published the
way the services do it, and a fake mail server (the one boundary faked: Django's locmem
backend that can refuse, disconnect or "lose its worker" on cue).

Time is set with time-machine only (the ``time_machine`` fixture), never waited for.
"""

from __future__ import annotations

import datetime
import smtplib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from members import mail as member_mail
from members.models import Community, Membership, UndeliverableAddress, User
from questions.digests import services
from questions.digests.models import Digest, DigestDelivery
from tests.factories import UserFactory, add_member, make_community, organiser_of, set_status

SHANGHAI = ZoneInfo("Asia/Shanghai")
W44 = datetime.date(2026, 10, 26)
W45 = datetime.date(2026, 11, 2)
W46 = datetime.date(2026, 11, 9)
# 2026-W45 has ended (Monday 9 November, Shanghai): its digest may be drafted and published.
AFTER_W45 = datetime.datetime(2026, 11, 9, 10, 0, tzinfo=SHANGHAI)

FUND = {
    "reward_budget": 20000,
    "reward_paid": 15000,
    "operations_budget": 5000,
    "operations_paid": 4000,
    "reward_rollover_out": 5000,
    "operations_rollover_out": 1000,
}

Capture = Callable[..., AbstractContextManager[Any]]


# --- The people ----------------------------------------------------------------------------------


@dataclass
class Cast:
    """A community with every kind of membership the delivery has to tell apart."""

    community: Community
    organiser: Membership
    moderator: Membership
    members: list[Membership]  # plain active members, e-mails on
    zh: Membership  # an active member who reads Chinese
    opted_out: Membership
    lapsed: Membership
    candidate: Membership
    pending: Membership
    left: Membership
    no_address: Membership
    undeliverable: Membership  # address reported bouncing, spelt in another case
    outsider: Membership  # an active member of another community
    other: Community = field(repr=False)

    @property
    def eligible(self) -> list[Membership]:
        return [self.organiser, self.moderator, *self.members, self.zh]

    @property
    def ineligible(self) -> list[Membership]:
        return [
            self.opted_out,
            self.lapsed,
            self.candidate,
            self.pending,
            self.left,
            self.no_address,
            self.undeliverable,
            self.outsider,
        ]


def member(community: Community, handle: str, **user: Any) -> Membership:
    return add_member(community, user=UserFactory(**user), profile={"handle": handle})


def cast(*, slug: str = "digestland", members: int = 3) -> Cast:
    community = make_community(slug=slug, name="Digest Land")
    organiser = organiser_of(community)
    moderator = add_member(community, role=Membership.Role.MODERATOR, profile={"handle": "mod"})
    plain = [member(community, f"plain{i}") for i in range(members)]
    zh = member(community, "zhong", language="zh-hans")
    opted_out = member(community, "quiet")
    services.digest_emails_set(membership=opted_out, on=False)
    lapsed = set_status(member(community, "lapsed"), Membership.Status.LAPSED)
    candidate = set_status(
        member(community, "cand"), Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE
    )
    pending = set_status(member(community, "pend"), Membership.Status.PENDING)
    left = set_status(member(community, "gone"), Membership.Status.LEFT)
    no_address = member(community, "noaddr")
    User.objects.filter(pk=no_address.user_id).update(email="")
    undeliverable = member(community, "bouncy", email="Bouncy.Person@Example.COM")
    member_mail.address_undeliverable_mark(
        email="bouncy.person@example.com",
        reason=UndeliverableAddress.Reason.BOUNCED,
        provider="test",
    )
    other = make_community(slug=f"{slug}-other", name="Elsewhere")
    outsider = member(other, "outsider")
    return Cast(
        community=community,
        organiser=organiser,
        moderator=moderator,
        members=plain,
        zh=zh,
        opted_out=opted_out,
        lapsed=lapsed,
        candidate=candidate,
        pending=pending,
        left=left,
        no_address=no_address,
        undeliverable=undeliverable,
        outsider=outsider,
        other=other,
    )


# --- Digests -------------------------------------------------------------------------------------


def draft(community: Community, week: datetime.date = W45, *, fund: bool = True) -> Digest:
    """The week's draft as the week close makes it (no questions: the delivery does not care)."""
    facts = services.CloseFacts(votes={}, fund=dict(FUND) if fund else {})
    return services.digest_draft(community=community, week=week, facts=facts)


def publish(
    digest: Digest,
    publisher: Membership,
    capture: Capture,
    *,
    summary: str = "What the week came to: **talk to users first**.",
) -> Digest:
    """Curate and publish as the portal does; the on-commit callbacks (the queueing task, run
    eagerly in tests: the e-mails are sent at once) run at the end."""
    with capture(execute=True):
        digest = services.digest_curate(digest=digest, editor=publisher, summary=summary)
        digest = services.digest_publish(digest=digest, publisher=publisher)
    digest.refresh_from_db()
    return digest


def published(
    community: Community, publisher: Membership, capture: Capture, week: datetime.date = W45
) -> Digest:
    return publish(draft(community, week), publisher, capture)


# --- What was sent -------------------------------------------------------------------------------


def digest_messages() -> list[mail.EmailMessage]:
    """The digest e-mails in the outbox (they, and only they, carry List-Unsubscribe)."""
    return [m for m in mail.outbox if "List-Unsubscribe" in m.extra_headers]


def copies() -> Counter[str]:
    """Digest e-mails received, by address (lower case)."""
    return Counter(address.lower() for m in digest_messages() for address in m.to)


def rows(digest: Digest) -> dict[int, DigestDelivery]:
    """The digest's delivery rows by membership id."""
    return {d.membership_id: d for d in DigestDelivery.objects.filter(digest=digest)}


def address_of(membership: Membership) -> str:
    return User.objects.get(pk=membership.user_id).email.lower()


def ids(memberships: Iterable[Membership]) -> set[int]:
    return {m.pk for m in memberships}


# --- The fake mail server ------------------------------------------------------------------------


class WorkerLost(BaseException):
    """The worker process dies (killed by the time limit, the OOM killer, a deploy): not an
    ``Exception``, so no ``except Exception`` in the code under test sees it."""


@dataclass
class Plan:
    """What the fake server does next.

    - ``crash_after``: stop the worker (``crash``, raised) when this many messages have been
      accepted (once); with ``hand_over`` the message is accepted first and the worker stops
      before the sender hears back.
    - ``refuse``: addresses (lower case) the server rejects, with the error.
    - ``fail_at``: an error raised (once) instead of accepting the next message when this many
      have been accepted.
    - ``fail_next``: errors raised instead of accepting the next messages, one each.
    - ``fail_always``: raised on every message.
    - ``open_errors``: raised by the next connection attempts, one each."""

    crash_after: int | None = None
    hand_over: bool = False
    crash: type[BaseException] = WorkerLost
    refuse: dict[str, BaseException] = field(default_factory=dict)
    fail_at: dict[int, BaseException] = field(default_factory=dict)
    fail_next: list[BaseException] = field(default_factory=list)
    fail_always: BaseException | None = None
    open_errors: list[BaseException] = field(default_factory=list)
    accepted: int = 0
    attempts: list[str] = field(default_factory=list)


class FakeMailServer(LocmemBackend):
    """Django's locmem backend (``mail.outbox``) with a scripted ``Plan``."""

    plan = Plan()

    def open(self) -> bool:
        if self.plan.open_errors:
            raise self.plan.open_errors.pop(0)
        return True

    def send_messages(self, messages: Any) -> int:
        count = 0
        plan = self.plan
        for message in messages:
            to = message.to[0].lower()
            plan.attempts.append(to)
            if plan.fail_always is not None:
                raise plan.fail_always
            if plan.accepted in plan.fail_at:
                raise plan.fail_at.pop(plan.accepted)
            if plan.fail_next:
                raise plan.fail_next.pop(0)
            if to in plan.refuse:
                raise plan.refuse[to]
            if plan.crash_after is not None and plan.accepted >= plan.crash_after:
                plan.crash_after = None
                if plan.hand_over:
                    super().send_messages([message])
                    plan.accepted += 1
                raise plan.crash(f"stopped while sending to {to}")
            count += super().send_messages([message])
            plan.accepted += 1
        return count


__all__ = ["SoftTimeLimitExceeded"]  # Celery's soft time limit, raised in the task


def fake_mail_server(settings: Any) -> Plan:
    """Route e-mail through ``FakeMailServer`` (pytest-django's ``settings`` fixture puts the
    real setting back); returns its fresh plan."""
    settings.EMAIL_BACKEND = f"{__name__}.FakeMailServer"
    FakeMailServer.plan = Plan()
    return FakeMailServer.plan


def disconnected() -> smtplib.SMTPServerDisconnected:
    return smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def busy() -> smtplib.SMTPResponseException:
    return smtplib.SMTPResponseException(421, b"4.7.0 Too many connections, try again later")


def unknown_user(address: str) -> smtplib.SMTPRecipientsRefused:
    return smtplib.SMTPRecipientsRefused({address: (550, b"5.1.1 No such user here")})


# --- A real SMTP server on 127.0.0.1 -------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> Any:
        import email
        from email import policy

        return email.message_from_bytes(self.data, policy=policy.default)


@dataclass
class Sink:
    """An SMTP server (aiosmtpd) on 127.0.0.1 in a thread of this process: what it accepted,
    and, by address, the reply it gives to RCPT instead of accepting (e.g. "550 ...")."""

    port: int
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    def copies(self) -> Counter[str]:
        return Counter(a.lower() for r in self.received for a in r.rcpt_tos)


class SinkHandler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self.sink.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.sink.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 Message accepted"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_sink(settings: Any) -> Iterator[Sink]:
    """Generator for a fixture: Django's SMTP backend pointed at a fresh sink."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = Sink(port=free_port())
    controller = Controller(SinkHandler(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield sink
    finally:
        controller.stop()
