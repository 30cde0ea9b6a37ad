"""What cached HTML shares (questions/fragments.py, the anonymous landing page): a stand-in
for the CSRF token in stored HTML, replaced with the request's own token as it is served, so
that no one is ever served another's token."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.crypto import salted_hmac


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
