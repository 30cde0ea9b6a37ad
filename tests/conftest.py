from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from members.models import Community, Membership
from tests.factories import add_member, make_community, organiser_of

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
