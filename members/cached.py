"""What cached HTML shares (questions/fragments.py, the anonymous landing page, list rows and
directory cards): content-addressed keys; a stand-in for the CSRF token in stored HTML,
replaced with the request's own token as it is served, so that no one is ever served
another's token; and ``render_each`` for list rows rendered once for what they show."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe


def csrf_placeholder() -> str:
    """Stands for the CSRF token in stored HTML; secret (derived from SECRET_KEY), so no text a
    member writes can contain it."""
    return "csrf-" + salted_hmac("members.cached.csrf", "token").hexdigest()[:32]


def with_token(request: HttpRequest, html: str, token: str | None = None) -> str:
    """Stored HTML with the request's CSRF token in place of the placeholder (``token``: one
    already taken from ``get_token`` for this request; masking a new one costs time)."""
    return html.replace(csrf_placeholder(), token or get_token(request))


def key(kind: str, parts: Iterable[object], *, version: int = 1) -> str:
    """A cache key that is a digest of everything the cached HTML depends on."""
    digest = hashlib.blake2b(repr((version, *parts)).encode(), digest_size=16).hexdigest()
    return f"fragment:{kind}:{digest}"


def render_each(
    template_name: str, contexts: Sequence[dict[str, Any]], *, keys: Sequence[tuple[object, ...]]
) -> list[SafeString]:
    """``template_name`` rendered with each context, from the cache where it is there.

    Content-addressed: each key must hold *everything* the template reads from its context
    (a list row's or a profile card's own values), so equal keys mean equal HTML and no key
    can hold another viewer's HTML; the language is added here. The template must not read
    the request (it is rendered without one: no CSRF token, no user). Rendering a row costs
    more than hashing its values, and a list page of 20 rows asks the cache once."""
    seconds = settings.FRAGMENT_CACHE_SECONDS
    language = translation.get_language()
    names = [key(template_name, (*parts, language)) for parts in keys]
    found = cache.get_many(names) if seconds else {}
    store: dict[str, str] = {}
    rendered = []
    for name, context in zip(names, contexts, strict=True):
        html = found.get(name)
        if html is None:
            html = store[name] = render_to_string(template_name, context)
        rendered.append(mark_safe(html))  # noqa: S308 - our template, values escaped there
    if store and seconds:
        cache.set_many(store, seconds)
    return rendered


def landing_key(slug: str, language: str) -> str:
    """The key of a community's landing page as visitors see it, in a language."""
    return key("landing", (slug, language))


def landing_forget(slug: str) -> None:
    """A community's settings or phase changed: its visitors' landing pages are made anew."""
    cache.delete_many([landing_key(slug, code) for code, _name in settings.LANGUAGES])
