"""API plumbing for the whole project: how service errors become HTTP 400s, how errors are
described in the OpenAPI schema, and the JSON 404 for unknown paths under ``/api/``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from members.errors import error_dict
from members.serializers import ERRORS


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise Django's ValidationError naming fields; answer it as HTTP 400."""
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(error_dict(exc))
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any path under /api/ that names no endpoint: JSON, as every other API error is. A path
    that only lacks its final slash is still sent to it (CommonMiddleware's APPEND_SLASH,
    which this catch-all would otherwise hide)."""
    path = request.path_info
    if settings.APPEND_SLASH and not path.endswith("/"):
        try:
            match = resolve(f"{path}/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse({"detail": _("Not found.")}, status=404)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with the error responses each operation can answer:

    - 400 when it takes a body or query parameters (or the view declares it);
    - 401 when it reads credentials (a bad token is refused before anything else);
    - 403 when it names a thing in its path (the access checks) or changes something with a
      session (CSRF);
    - 404 when its path names a thing;
    - 415 when it takes a body;
    - 429 when it is throttled;
    - 503 always (a service it needs may be down: community/degraded.py).
    """

    def _error_codes(self) -> list[int]:
        codes = []
        unsafe = self.method in ("POST", "PUT", "PATCH", "DELETE")
        has_body = (
            self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        )
        has_query = any(
            getattr(p, "location", None) == "query" for p in self.get_override_parameters()
        )
        has_path = "{" in self.path
        authenticators = self.view.get_authenticators()
        if has_body or has_query or unsafe:
            codes.append(400)
        if authenticators:
            codes.append(401)
        session = any(isinstance(a, SessionAuthentication) for a in authenticators)
        if has_path or (unsafe and session):
            codes.append(403)
        if has_path:
            codes.append(404)
        if has_body:
            codes.append(415)
        if self.view.get_throttles():
            codes.append(429)
        codes.append(503)
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    ERRORS[code], str(code), direction=direction
                )
        return responses
