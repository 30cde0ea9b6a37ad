"""Home page and health check (the composition root's own pages)."""

from __future__ import annotations

import datetime

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from members import selectors
from members.models import OutboxTask

# Queued tasks are normally handed to the broker at once; older unsent ones mean it is down.
OUTBOX_LATE = datetime.timedelta(minutes=2)


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the communities I belong to. Visitors: the communities they may join."""
    memberships = []
    if request.user.is_authenticated:
        memberships = list(selectors.memberships_of_user(user=request.user))
    return render(
        request,
        "home.html",
        {
            "memberships": memberships,
            "communities": selectors.public_communities()[:50],
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok"}``; ``degraded`` (still 200: pages, sign-in and writes work) naming
    what is down — the cache (Redis), or queued tasks the broker has not taken for a while
    (members.outbox) —; 503 when the database cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    problems: dict[str, object] = {}
    reachable = getattr(caches["default"], "reachable", None)  # the Redis cache only
    if reachable is not None and not reachable():
        problems["cache"] = "unavailable"
    waiting = OutboxTask.objects.filter(
        sent_at__isnull=True, created_at__lt=timezone.now() - OUTBOX_LATE
    ).count()
    if waiting:
        problems["queued_tasks_waiting"] = waiting
    return JsonResponse({"status": "degraded", **problems} if problems else {"status": "ok"})
