"""The OpenAPI schema's view (its generator's settings are community.api's AutoSchema, which
drf-spectacular's views import: this view lives apart to keep that import one-way)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response


class SchemaView(SpectacularAPIView):
    """``GET /api/schema/``. The schema describes the code, not anyone's data (it is served
    public), so it is generated once per process, language and version, and kept: generating
    it takes a few hundred milliseconds. Only the project's own languages are kept (``lang``
    is the caller's to choose)."""

    _schemas: ClassVar[dict[tuple[str, str | None], Any]] = {}

    def _get_schema_response(self, request: Any) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (translation.get_language(), version)
        schema = self._schemas.get(key)
        if schema is None:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            schema = generator.get_schema(request=request, public=self.serve_public)
            if key[0] in dict(settings.LANGUAGES):
                self._schemas[key] = schema
        filename = self._get_filename(request, version)
        return Response(
            data=schema, headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )
