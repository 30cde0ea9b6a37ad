"""Home page and health check (the composition root's own pages)."""

from __future__ import annotations

import datetime

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from community import dashboard as dashboards
from members import access, selectors
from members import views as member_views
from members.models import OutboxTask

# Queued tasks are normally handed to the broker at once; older unsent ones mean it is down.
OUTBOX_LATE = datetime.timedelta(minutes=2)


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the communities I belong to. Visitors: the communities they may join."""
    memberships = []
    communities = selectors.public_communities()
    if request.user.is_authenticated:
        memberships = list(selectors.memberships_of_user(user=request.user))
        # each community once: mine above, the others below
        communities = communities.exclude(pk__in=[m.community_id for m in memberships])
    return render(
        request,
        "home.html",
        {"memberships": memberships, "communities": communities[:50]},
    )


def community_home(request: HttpRequest, slug: str) -> HttpResponse:
    """``/c/<slug>/``: a reader's home in the community (the week at a glance, what needs
    them); a candidate's landing page with their challenge answers; everyone else's landing
    page (for a visitor, the cached copy: members.views.landing)."""
    if not request.user.is_authenticated:
        return member_views.landing(request, slug)
    community = access.access_community(slug=slug)
    viewer = access.membership_of(user=request.user, community=community)
    if viewer is None or not access.is_reader(viewer):
        extra: dict[str, object] = {}
        if access.is_candidate(viewer):
            assert viewer is not None  # noqa: S101 - a candidate has a membership
            extra["challenge_answers"] = dashboards.candidate_answers(viewer=viewer)
        return member_views.landing_page(request, community=community, viewer=viewer, extra=extra)
    board = dashboards.dashboard(viewer=viewer, community=community)
    return render(
        request,
        "community/home.html",
        {
            "community": community,
            "viewer": viewer,
            "board": board,
            "can_resume": access.is_lapsed(viewer),
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
