"""Home page and health check (the composition root's own pages)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from members import selectors


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
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
