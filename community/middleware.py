"""Response headers the whole site shares."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# The browsable API docs (Swagger UI) start themselves with an inline script.
_EXEMPT_PREFIXES = ("/api/docs/",)


class ContentSecurityPolicyMiddleware:
    """Send ``Content-Security-Policy`` (settings.CONTENT_SECURITY_POLICY): no inline scripts,
    no third-party sources. Pages keep their JavaScript in static files."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and not request.path.startswith(_EXEMPT_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
