"""The e-mail provider's tracking webhook (bounces, rejections, complaints), through
django-anymail: ``/anymail/<provider>/tracking/``, the path anymail documents for each
provider. anymail verifies the request (``ANYMAIL["WEBHOOK_SECRET"]``: HTTP basic auth, or
the provider's signing key) and sends its normalised ``tracking`` signal, which
``members.mail.tracking_event`` receives.

Only the tracking webhooks are mounted (not the inbound-mail ones), and only once a webhook
secret is configured: until then, and for a provider anymail does not know or whose own
settings are missing, the address is simply not there (404) rather than a server error."""

from __future__ import annotations

import logging
from typing import Any

from anymail import urls as anymail_urls
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

SUFFIX = "_tracking_webhook"
TRACKING_VIEWS: dict[str, Any] = {
    pattern.name.removesuffix(SUFFIX): pattern.callback
    for pattern in anymail_urls.urlpatterns
    if pattern.name and pattern.name.endswith(SUFFIX)
}


@csrf_exempt
def email_tracking(request: HttpRequest, esp: str) -> HttpResponse:
    view = TRACKING_VIEWS.get(esp.replace("-", "_"))
    configured = getattr(settings, "ANYMAIL", None) or {}
    if view is None or not configured:
        raise Http404(_("Not found."))
    try:
        response: HttpResponse = view(request)
    except ImproperlyConfigured:
        logger.warning("The %s tracking webhook is not configured (ANYMAIL settings).", esp)
        raise Http404(_("Not found.")) from None
    return response
