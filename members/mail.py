"""E-mail to one person, written in their language (``User.language``, else the site's).

Every e-mail the apps send goes through ``send_to``: a subject and a body template rendered
with the recipient's language active, the subject on one line.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from members.models import UndeliverableAddress, User


def supported_languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def language_of(user: User) -> str:
    """The language to write to ``user`` in."""
    return user.language if user.language in supported_languages() else settings.LANGUAGE_CODE


def is_deliverable(email: str) -> bool:
    """False once the provider reported the address bouncing, rejected or complaining."""
    return bool(email) and not UndeliverableAddress.objects.filter(email=email.lower()).exists()


def send_to(user: User, *, subject: str, body: str, context: dict[str, Any]) -> None:
    """Render the ``subject`` and ``body`` templates in ``user``'s language and send them
    (not to an address reported undeliverable)."""
    if not is_deliverable(user.email):
        return
    with translation.override(language_of(user)):
        subject_text = " ".join(render_to_string(subject, context).split())
        body_text = render_to_string(body, context)
    send_mail(subject_text, body_text, None, [user.email])


def remember_language(user: User, language: str | None) -> None:
    """Keep ``language`` (as the site spells it: "zh-Hans" is "zh-hans"; ignored when the site
    does not have it) as the one to write to ``user`` in."""
    try:
        code = translation.get_supported_language_variant(language or "").lower()
    except LookupError:
        return
    if code not in supported_languages():
        return
    if user.pk is not None and user.language != code:
        user.language = code
        User.objects.filter(pk=user.pk).update(language=code)


# The provider's verdicts that stop e-mail to an address (anymail's normalised event types).
STOPPING_EVENTS = {
    "bounced": UndeliverableAddress.Reason.BOUNCED,
    "rejected": UndeliverableAddress.Reason.REJECTED,
    "complained": UndeliverableAddress.Reason.COMPLAINED,
    "unsubscribed": UndeliverableAddress.Reason.UNSUBSCRIBED,
}


def address_undeliverable_mark(
    *, email: str, reason: str, detail: str = "", provider: str = ""
) -> UndeliverableAddress | None:
    """Stop sending to ``email`` (idempotent: the first report is kept)."""
    address = (email or "").strip().lower()
    if not address or "@" not in address or len(address) > 254:
        return None
    found, _created = UndeliverableAddress.objects.get_or_create(
        email=address,
        defaults={"reason": reason, "detail": detail[:2000], "provider": provider[:40]},
    )
    return found


def tracking_event(sender: object, event: Any, esp_name: str, **kwargs: Any) -> None:
    """anymail's ``tracking`` signal (its webhooks verified the provider's request): a
    bounce, rejection, complaint or provider-side unsubscribe marks the address."""
    reason = STOPPING_EVENTS.get(getattr(event, "event_type", "") or "")
    if reason is None or not getattr(event, "recipient", None):
        return
    detail = getattr(event, "description", None) or getattr(event, "reject_reason", None) or ""
    address_undeliverable_mark(
        email=event.recipient, reason=reason, detail=str(detail), provider=esp_name or ""
    )
