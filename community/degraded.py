"""Degraded modes: what the site does while Redis (the cache and Celery's broker) is down.

- **The cache** (``FallbackRedisCache``, the ``default`` cache when REDIS_URL is set): a
  Redis error on any cache call is logged (once per outage) and the call is answered by a
  local-memory cache in this process instead, for ``RETRY_AFTER`` seconds before Redis is
  tried again. Pages that read the cache see a miss. Rate limits — allauth's sign-in,
  sign-up and password-reset limits, the API token throttle — keep counting, per web
  process, so they still hold (looser by the number of processes) and sign-in keeps
  working: neither fails open nor answers 500.
- **The broker**: work is queued through the transactional outbox (members/outbox.py), so a
  write that committed answers success and its tasks wait in PostgreSQL for the broker.
- **Anything else** that reaches Redis or the broker and fails inside a request
  (``ServiceUnavailableMiddleware``) answers 503 "temporarily unavailable, try again
  shortly" — JSON under /api/, a short page elsewhere — never a 500.
- ``/healthz`` says ``degraded`` (still 200: the site serves) and what is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a Redis error the cache answers from local memory this long before trying Redis
# again: a request pays for at most one failed connection every few seconds per process.
RETRY_AFTER = 5.0
RETRY_AFTER_HEADER = "30"

# Redis found down, per LOCATION, as a time.monotonic() before which it is not tried (shared
# by the threads of a process: Django gives each thread its own cache object).
_down_until: dict[str, float] = {}
_lock = threading.Lock()


class FallbackRedisCache(RedisCache):
    """Django's Redis cache, answered from a local-memory cache while Redis is unreachable.

    Configure ``OPTIONS`` with short ``socket_connect_timeout`` / ``socket_timeout`` so an
    unreachable (not just refusing) Redis costs a request little."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        local = {k: v for k, v in params.items() if k in ("TIMEOUT", "KEY_PREFIX", "VERSION")}
        # Named after the location: every thread of the process shares one local store.
        self._local = LocMemCache(f"redis-fallback:{self._location}", local)

    # --- Health -------------------------------------------------------------------------------

    def is_down(self) -> bool:
        """Redis failed a moment ago: calls go to local memory for now."""
        return _down_until.get(self._location, 0.0) > time.monotonic()

    def reachable(self) -> bool:
        """Ask Redis now (PING), whatever happened a moment ago; for the health check."""
        try:
            self._cache.get_client(None, write=True).ping()
        except RedisError as exc:
            self._went_down(exc)
            return False
        self._came_back()
        return True

    def _went_down(self, exc: Exception) -> None:
        with _lock:
            first = not self.is_down()
            _down_until[self._location] = time.monotonic() + RETRY_AFTER
        if first:
            logger.warning(
                "Cache unavailable (%s: %s): using this process's memory for %ss",
                type(exc).__name__,
                exc,
                RETRY_AFTER,
            )

    def _came_back(self) -> None:
        if _down_until.pop(self._location, None) is not None:
            logger.info("Cache available again")

    def _either(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self.is_down():
            redis_method: Callable[..., Any] = getattr(super(), method)
            try:
                result = redis_method(*args, **kwargs)
            except RedisError as exc:
                self._went_down(exc)
            else:
                if self._location in _down_until:
                    self._came_back()
                return result
        return getattr(self._local, method)(*args, **kwargs)

    # --- The cache API (what RedisCache implements; the rest of BaseCache calls these) ---------

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("delete_many", *args, **kwargs)

    def clear(self) -> Any:
        return self._either("clear")


class ServiceUnavailableMiddleware:
    """A Redis or broker error escaping a view becomes a 503 saying to try again shortly (the
    last line of defence: the cache falls back and tasks go through the outbox)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RedisError | BrokerError):
            return None
        logger.error(
            "Service unavailable on %s %s: %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
            exception,
        )
        return unavailable_response(request)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    message = _("This service is temporarily unavailable. Please try again shortly.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(
            format_html(
                '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
                "<title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>",
                getattr(request, "LANGUAGE_CODE", "en"),
                _("Temporarily unavailable"),
                _("Temporarily unavailable"),
                message,
            ),
            status=503,
        )
    response["Retry-After"] = RETRY_AFTER_HEADER
    return response
