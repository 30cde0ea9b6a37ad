from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page, expect

from tests import worlds
from tests.factories import mfa_sign_in

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# How long an expectation waits for its condition (it returns as soon as the condition holds):
# CI runs the browser tests on a loaded 2-core machine, where 5 s (Playwright's default) is
# sometimes too short for a page to render.
expect.set_options(timeout=15_000)


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests save their screenshots (CI keeps the folder)."""
    path = Path(os.environ.get("E2E_ARTIFACTS") or PROJECT_ROOT / "artifacts" / "e2e")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def midweek(time_machine: Any) -> datetime.datetime:
    """Move the clock (it keeps ticking) to Wednesday 12:00 (Asia/Shanghai, the communities'
    default zone) of the current week, so that a journey never runs across a week's end:
    weeks, shifts and the ballot stay where the test built them."""
    moment = worlds.midweek()
    time_machine.move_to(moment, tick=True)
    return moment


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
# The page wider than the window (a clipped table pushes it): > 0 means a sideways scroll.
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"

SignedIn = Callable[..., Page]


@pytest.fixture
def signed_in(new_context: Callable[..., BrowserContext], live_server: Any) -> SignedIn:
    """``signed_in(user, viewport=PHONE, language="zh-hans")``: a browser of its own (its own
    cookies) of that size, signed in as ``user`` (no sign-in form: a session made by the test
    client) with the portal in ``language``; ``user=None`` for a visitor. ``mfa=True``: the
    session also holds the TOTP step (tests.factories.mfa_sign_in), as the organisers' money
    pages ask; ``javascript=False``: a browser with JavaScript off."""

    def open_page(
        user: Any,
        *,
        viewport: dict[str, int] = DESKTOP,
        language: str = "en",
        mfa: bool = False,
        javascript: bool = True,
    ) -> Page:
        base = live_server.url
        context = new_context(viewport=viewport, java_script_enabled=javascript)
        cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}]
        if user is not None:
            client = Client()
            if mfa:
                mfa_sign_in(client, user)
            else:
                client.force_login(user)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base})
        context.add_cookies(cookies)  # type: ignore[arg-type]
        return context.new_page()

    return open_page
