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

from members.models import User


def supported_languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def language_of(user: User) -> str:
    """The language to write to ``user`` in."""
    return user.language if user.language in supported_languages() else settings.LANGUAGE_CODE


def send_to(user: User, *, subject: str, body: str, context: dict[str, Any]) -> None:
    """Render the ``subject`` and ``body`` templates in ``user``'s language and send them."""
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
