"""API plumbing for the whole project: how service errors become HTTP 400s."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from members.errors import error_dict


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise Django's ValidationError naming fields; answer it as HTTP 400."""
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(error_dict(exc))
    return drf_exception_handler(exc, context)
