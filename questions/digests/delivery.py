"""E-mailing a published digest: one ``DigestDelivery`` row per recipient, sent in batches.

1. ``deliveries_queue`` (once per digest): a row for every eligible member — active readers
   (not candidates, not lapsed) with an address, who have not turned digest e-mails off and
   whose address the provider has not reported undeliverable. Unique per digest and member:
   queueing again adds nobody twice.
2. ``deliveries_dispatch``: the queued rows, in batches of DIGEST_BATCH_SIZE, one task each.
3. ``batch_send``: claims its queued rows (``sending``, a claim id, in one short
   transaction, skipping rows another worker holds), opens one connection, and sends them in
   id order, recording them ``sent`` in groups of RECORD_EVERY. A transient error (the
   server unreachable, a 4xx reply) records what was sent and puts the rest back to
   ``queued`` for a retry; a permanent one fails that row with the error. Stopped by an
   exception (a time limit, a shutdown), it records what was sent, fails the message it was
   handing over and queues the rest again.
4. ``deliveries_recover`` (beat): a claim older than the lease belongs to a worker killed
   outright (a batch's task is killed long before the lease ends: its time limit). Its rows
   were sent in id order and recorded in groups, so only its first RECORD_EVERY unrecorded
   rows may have been handed over: those are failed (not resent: at most one copy), the rest
   are queued again.

Each e-mail is written in the recipient's language, HTML with a plain-text part, and carries
``List-Unsubscribe`` (a signed HTTPS link) and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 8058). The body is rendered once per language and batch —
with Django's SMTP backend the message is serialised once too — and only the address, the
unsubscribe link and the Message-ID differ between recipients (``Prepared``).
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import make_msgid, sanitize_address
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from members import access as member_access
from members import mail
from members.models import Membership, UndeliverableAddress
from questions.digests import selectors, services
from questions.digests.models import Digest, DigestDelivery, DigestSubscription

logger = logging.getLogger(__name__)
Delivery = DigestDelivery
QUEUE_CHUNK = 5_000
LEASE = datetime.timedelta(minutes=15)
MAX_ATTEMPTS = 5
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/__digest_unsubscribe__/"


# --- Who receives it -----------------------------------------------------------------------------


def recipients(digest: Digest) -> Any:
    """The eligible memberships of the digest's community: (id, address) rows."""
    opted_out = DigestSubscription.objects.filter(membership=OuterRef("pk"), emails=False)
    undeliverable = UndeliverableAddress.objects.filter(email=OuterRef("address"))
    return (
        Membership.objects.filter(
            community_id=digest.community_id,
            role__in=member_access.READER_ROLES,
            status__in=member_access.ACTIVE,
        )
        .exclude(user__email="")
        .annotate(address=Lower("user__email"))
        .filter(~Exists(opted_out), ~Exists(undeliverable))
        .order_by("pk")
        .values_list("pk", "user__email")
    )


def deliveries_queue(digest_id: int) -> int:
    """Queue the published digest's deliveries (once) and dispatch them; returns how many rows
    were added. Run again, it adds nobody (and dispatches what is still queued)."""
    added = 0
    with transaction.atomic():
        digest = Digest.objects.select_for_update().filter(pk=digest_id).first()
        if digest is None or not digest.is_published:
            return 0
        if digest.deliveries_queued_at is None:
            now = timezone.now()
            rows = recipients(digest).iterator(chunk_size=QUEUE_CHUNK)
            batch: list[Delivery] = []
            for membership_id, email in rows:
                batch.append(
                    Delivery(
                        digest_id=digest.pk, membership_id=membership_id, email=email, queued_at=now
                    )
                )
                if len(batch) >= QUEUE_CHUNK:
                    added += len(Delivery.objects.bulk_create(batch, ignore_conflicts=True))
                    batch = []
            if batch:
                added += len(Delivery.objects.bulk_create(batch, ignore_conflicts=True))
            digest.deliveries_queued_at = now
            digest.save(update_fields=["deliveries_queued_at"])
    deliveries_dispatch(digest_id)
    return added


def deliveries_dispatch(digest_id: int) -> int:
    """One send task per batch of queued rows (by id range); returns how many tasks."""
    from questions.digests import tasks

    size = max(1, settings.DIGEST_BATCH_SIZE)
    ids = list(
        Delivery.objects.filter(digest_id=digest_id, state=Delivery.State.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    count = 0
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        tasks.batch_send.delay(digest_id, chunk[0], chunk[-1])
        count += 1
    return count


# --- Writing the e-mail --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def unsubscribe_url(membership_id: int) -> str:
    token = services.unsubscribe_token(membership_id)
    return settings.SITE_URL + reverse("digests:unsubscribe", kwargs={"token": "T"}).replace(
        "/T/", f"/{token}/"
    )


def render(digest: Digest, language: str, *, test: bool = False) -> Rendered:
    """The digest's e-mail in ``language``, the unsubscribe link left as a placeholder."""
    view = selectors.digest_view(digest=digest, viewer=None)
    context = {
        "view": view,
        "digest": digest,
        "community": digest.community,
        "url": settings.SITE_URL + digest.get_absolute_url(),
        "site_url": settings.SITE_URL,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "settings_url": settings.SITE_URL
        + reverse("digests:settings", kwargs={"slug": digest.community.slug}),
        "test": test,
    }
    with translation.override(language):
        subject = " ".join(render_to_string("digests/email/subject.txt", context).split())
        text = render_to_string("digests/email/body.txt", context)
        html = render_to_string("digests/email/body.html", context)
    return Rendered(subject=subject, text=text, html=html)


def message(
    rendered: Rendered, *, to: str, membership_id: int, connection: Any = None
) -> EmailMultiAlternatives:
    link = unsubscribe_url(membership_id)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, link),
        to=[to],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, link), "text/html")
    return email


def test_send(*, digest: Digest, to: Membership) -> None:
    """The digest as a member will receive it, to the curator alone (no delivery row)."""
    services._check_curator(to, digest)
    rendered = render(digest, mail.language_of(to.user), test=True)
    message(rendered, to=to.user.email, membership_id=to.pk).send()


# --- Sending a batch -----------------------------------------------------------------------------


SERVER = "server"  # the server or the network: the rest of the batch waits for a retry
LATER = "later"  # this recipient, for now (a full mailbox, greylisting): this row is retried
PERMANENT = "permanent"  # this recipient, for good: this row fails


def trouble(error: BaseException) -> str:
    """What a sending error means for the batch."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return LATER if codes and all(400 <= code < 500 for code in codes) else PERMANENT
    if isinstance(error, smtplib.SMTPResponseException):
        if error.smtp_code == 421:  # the service is closing the connection
            return SERVER
        return LATER if 400 <= error.smtp_code < 500 else PERMANENT
    if isinstance(error, OSError):  # SMTPServerDisconnected, refused connections, timeouts
        return SERVER
    status = getattr(error, "status_code", None)  # anymail's API errors
    if isinstance(status, int) and (status == 429 or status >= 500):
        return SERVER
    return PERMANENT


def is_transient(error: BaseException) -> bool:
    """Worth retrying: anything but a permanent refusal of the recipient."""
    return trouble(error) != PERMANENT


@dataclass(frozen=True)
class BatchResult:
    sent: int
    failed: int
    requeued: int


def _claim(digest_id: int, first_id: int, last_id: int) -> tuple[uuid.UUID, list[int]]:
    claim = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                digest_id=digest_id,
                pk__gte=first_id,
                pk__lte=last_id,
                state=Delivery.State.QUEUED,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            state=Delivery.State.SENDING,
            claim=claim,
            claimed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
    return claim, ids


def _requeue(claim: uuid.UUID, ids: Iterable[int], error: str) -> int:
    """Put unsent rows back (or fail those out of attempts)."""
    ids = list(ids)
    rows = Delivery.objects.filter(pk__in=ids, claim=claim, state=Delivery.State.SENDING)
    rows.filter(attempts__gte=MAX_ATTEMPTS).update(
        state=Delivery.State.FAILED, claim=None, error=error
    )
    return rows.update(state=Delivery.State.QUEUED, claim=None, claimed_at=None, error=error)


# Rows handed over are recorded "sent" in groups of this many (one UPDATE, one commit): a
# commit per message would cost more than the message. A worker killed outright (not an
# exception: those record what was sent before leaving) may leave up to this many rows sent
# but unrecorded; recovery fails that many, so that none is sent twice.
RECORD_EVERY = 25
TO_PLACEHOLDER = "recipient@digest-recipient.invalid"
MESSAGE_ID_PLACEHOLDER = "<digest-message-id@digest-recipient.invalid>"


class Prepared:
    """One language's e-mail of a batch, built once. With Django's SMTP backend the message
    is also serialised once, and each recipient's copy is those bytes with their address,
    unsubscribe link and Message-ID spliced in (checked: when an encoding hid a placeholder,
    each copy is built in full instead)."""

    def __init__(self, rendered: Rendered, *, raw: bool) -> None:
        self.rendered = rendered
        self.data: bytes | None = None
        if not raw:
            return
        template = message(rendered, to=TO_PLACEHOLDER, membership_id=0)
        template.extra_headers["Message-ID"] = MESSAGE_ID_PLACEHOLDER
        template.extra_headers["List-Unsubscribe"] = f"<{UNSUBSCRIBE_PLACEHOLDER}>"
        template.body = rendered.text
        template.alternatives = []
        template.attach_alternative(rendered.html, "text/html")
        data = template.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        expected = rendered.text.count(UNSUBSCRIBE_PLACEHOLDER) + rendered.html.count(
            UNSUBSCRIBE_PLACEHOLDER
        )
        if (
            data.count(UNSUBSCRIBE_PLACEHOLDER.encode()) == expected + 1
            and data.count(TO_PLACEHOLDER.encode()) == 1
            and data.count(MESSAGE_ID_PLACEHOLDER.encode()) == 1
        ):
            self.data = data

    def bytes_for(self, to: str, link: str) -> bytes | None:
        if self.data is None or not to.isascii():
            return None
        return (
            self.data.replace(UNSUBSCRIBE_PLACEHOLDER.encode(), link.encode())
            .replace(TO_PLACEHOLDER.encode(), to.encode())
            .replace(MESSAGE_ID_PLACEHOLDER.encode(), make_msgid(domain=DNS_NAME).encode())
        )


def _send_one(connection: Any, prepared: Prepared, *, to: str, membership_id: int) -> None:
    link = unsubscribe_url(membership_id)
    data = prepared.bytes_for(to, link) if isinstance(connection, SMTPBackend) else None
    if data is not None and connection.connection is not None:
        sender = sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
        connection.connection.sendmail(sender, [to], data)
        return
    message(prepared.rendered, to=to, membership_id=membership_id, connection=connection).send()


def batch_send(digest_id: int, first_id: int, last_id: int) -> BatchResult:
    """Send the queued deliveries of ``digest_id`` with ids in [first_id, last_id]."""
    digest = Digest.objects.select_related("community").filter(pk=digest_id).first()
    if digest is None:
        return BatchResult(0, 0, 0)
    claim, ids = _claim(digest_id, first_id, last_id)
    if not ids:
        return BatchResult(0, 0, 0)
    rows = list(
        Delivery.objects.filter(pk__in=ids, claim=claim)
        .order_by("pk")
        .values_list("pk", "membership_id", "email", "membership__user__language")
    )
    # Reported undeliverable, or turned off or no longer active, since they were queued:
    # not sent.
    stopped = set(
        UndeliverableAddress.objects.filter(email__in={r[2].lower() for r in rows}).values_list(
            "email", flat=True
        )
    )
    members = [r[1] for r in rows]
    gone = set(
        DigestSubscription.objects.filter(membership__in=members, emails=False).values_list(
            "membership_id", flat=True
        )
    ) | set(
        Membership.objects.filter(pk__in=members)
        .exclude(status__in=member_access.ACTIVE)
        .values_list("pk", flat=True)
    )
    languages = mail.supported_languages()
    prepared: dict[str, Prepared] = {}
    sent: list[int] = []
    failed = 0

    def record() -> None:
        if sent:
            Delivery.objects.filter(pk__in=sent, claim=claim).update(
                state=Delivery.State.SENT, claim=None, sent_at=timezone.now(), error=""
            )
            sent.clear()

    connection = get_connection()
    try:
        connection.open()
    except Exception as error:
        # Nothing was sent: the rows go back to the queue (a permanent error, such as bad
        # credentials, is raised for the operator to see, and the rows wait for the fix).
        requeued = _requeue(claim, ids, repr(error))
        if not is_transient(error):
            raise
        return BatchResult(0, 0, requeued)
    done = later = 0
    in_flight: int | None = None
    try:
        for index, (pk, membership_id, email, language) in enumerate(rows):
            if email.lower() in stopped or membership_id in gone:
                reason = "undeliverable address" if email.lower() in stopped else "no longer wanted"
                Delivery.objects.filter(pk=pk, claim=claim).update(
                    state=Delivery.State.FAILED, claim=None, error=reason
                )
                failed += 1
                continue
            language = language if language in languages else settings.LANGUAGE_CODE
            if language not in prepared:
                prepared[language] = Prepared(
                    render(digest, language), raw=isinstance(connection, SMTPBackend)
                )
            in_flight = pk
            try:
                _send_one(connection, prepared[language], to=email, membership_id=membership_id)
            except SoftTimeLimitExceeded:
                raise  # stopping: handled below
            except Exception as error:
                in_flight = None
                kind = trouble(error)
                if kind == SERVER:
                    record()
                    rest = [r[0] for r in rows[index:]]
                    return BatchResult(done, failed, later + _requeue(claim, rest, repr(error)))
                if kind == LATER:
                    later += _requeue(claim, [pk], repr(error)[:2000])
                    continue
                record()
                Delivery.objects.filter(pk=pk, claim=claim).update(
                    state=Delivery.State.FAILED, claim=None, error=repr(error)[:2000]
                )
                failed += 1
                continue
            in_flight = None
            sent.append(pk)
            done += 1
            if len(sent) >= RECORD_EVERY:
                record()
    except BaseException:
        # Stopped mid-batch (a time limit, a worker shutting down): what was handed over is
        # recorded sent, the message being handed over is failed (it may have left), the
        # rest go back to the queue.
        record()
        if in_flight is not None:
            Delivery.objects.filter(pk=in_flight, claim=claim).update(
                state=Delivery.State.FAILED, claim=None, error=INTERRUPTED
            )
        Delivery.objects.filter(claim=claim, state=Delivery.State.SENDING).update(
            state=Delivery.State.QUEUED, claim=None, claimed_at=None
        )
        raise
    finally:
        record()
        connection.close()
    return BatchResult(done, failed, later)


# --- Recovering from a worker that died ----------------------------------------------------------

INTERRUPTED = "interrupted while sending: not retried, so that nobody gets two copies"


def deliveries_recover(now: datetime.datetime | None = None) -> int:
    """Beat: release the claims of dead workers (see the module's docstring) and dispatch
    again every digest with queued rows; returns how many rows were queued again."""
    moment = now or timezone.now()
    stale = (
        Delivery.objects.filter(
            state=Delivery.State.SENDING, claimed_at__lt=moment - LEASE, claim__isnull=False
        )
        .values_list("claim", flat=True)
        .distinct()
    )
    requeued = 0
    for claim in list(stale):
        with transaction.atomic():
            rows = list(
                Delivery.objects.select_for_update()
                .filter(claim=claim, state=Delivery.State.SENDING)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if not rows:
                continue
            # Sent in id order and recorded in groups: only the first RECORD_EVERY rows
            # still "sending" can have been handed over unrecorded.
            Delivery.objects.filter(pk__in=rows[:RECORD_EVERY]).update(
                state=Delivery.State.FAILED, claim=None, error=INTERRUPTED
            )
            requeued += Delivery.objects.filter(pk__in=rows[RECORD_EVERY:]).update(
                state=Delivery.State.QUEUED, claim=None, claimed_at=None
            )
    # Published digests whose queueing task was lost (the broker was down at the commit).
    lost = Digest.objects.filter(
        state=Digest.State.PUBLISHED,
        deliveries_queued_at__isnull=True,
        published_at__lt=moment - LEASE,
    ).values_list("pk", flat=True)
    for digest_id in list(lost):
        deliveries_queue(digest_id)
    # Rows queued long ago whose task was lost (a send task claims a row only once, so a
    # second dispatch of a row still waiting in the broker sends nothing twice).
    waiting = (
        Delivery.objects.filter(state=Delivery.State.QUEUED, queued_at__lt=moment - LEASE)
        .values_list("digest_id", flat=True)
        .distinct()
    )
    for digest_id in list(waiting):
        deliveries_dispatch(digest_id)
    return requeued


def counts(digest: Digest) -> dict[str, int]:
    """Deliveries by state (the curation page and the admin)."""
    from django.db.models import Count

    found = {
        row["state"]: row["n"]
        for row in Delivery.objects.filter(digest=digest)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return {state: found.get(state, 0) for state in Delivery.State.values}
