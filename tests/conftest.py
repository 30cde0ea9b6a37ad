from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from members.models import Community, Membership
from tests.factories import add_member, make_community, organiser_of
from tests.rewards.fake_stripe import FakeStripe, serve

# Hypothesis: the same examples on every run (derandomized, no example database), and no
# per-example deadline — a deadline fails a test because the machine is busy, not because the
# code is wrong. HYPOTHESIS_PROFILE=thorough searches more, randomly, on demand.
hypothesis_settings.register_profile(
    "default", derandomize=True, database=None, deadline=None, print_blob=True
)
hypothesis_settings.register_profile(
    "thorough", max_examples=1000, derandomize=False, database=None, deadline=None
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session", autouse=True)
def _redis_database_per_worker(worker_id: str) -> Iterator[None]:
    """Under pytest-xdist every worker gets a Redis database of its own (the one REDIS_URL
    names, then the ones below it), as it gets a PostgreSQL database of its own: the tests
    clear the cache, which must not wipe another worker's rate limits mid-test."""
    location = settings.CACHES["default"].get("LOCATION", "")
    match = re.fullmatch(r"(redis://[^/]+/)(\d+)", location) if location else None
    if worker_id == "master" or match is None:
        yield
        return
    number = int(match[2]) - int(worker_id.removeprefix("gw"))
    if number < 0:
        raise pytest.UsageError(f"Too many workers for the Redis databases below {location}")
    caches = {"default": {**settings.CACHES["default"], "LOCATION": f"{match[1]}{number}"}}
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Hashing is slow on purpose; the tests check who may sign in, not the hash's strength."""
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    """Rate limits and throttles live in the cache (Redis): start every test from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Tests never reach beyond this machine."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and not host.startswith("/")
        ):
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def community(db: None) -> Community:
    return make_community(slug="circle", name="Circle")


@pytest.fixture
def organiser(community: Community) -> Membership:
    return organiser_of(community)


@pytest.fixture
def moderator(community: Community) -> Membership:
    return add_member(community, role=Membership.Role.MODERATOR, profile={"handle": "mod"})


@pytest.fixture
def member(community: Community) -> Membership:
    return add_member(community, profile={"handle": "plain"})


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    """The fake Stripe (tests/rewards/fake_stripe.py), running on 127.0.0.1; the SDK and the
    webhook secret point at it."""
    with serve(settings) as fake:
        yield fake
