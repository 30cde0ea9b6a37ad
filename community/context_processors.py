"""Template context for every page: the unread notification count for the header."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from questions import selectors as question_selectors


def notifications(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that never show the header (JSON, files) pay no query.
    return {
        "unread_notifications": SimpleLazyObject(lambda: question_selectors.unread_count(user=user))
    }
