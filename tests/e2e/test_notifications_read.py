"""Notifications in a real browser: the unread count sits on the bar (outside ☰ on a phone);
opening a notification takes the member to what it is about and marks it read, so the count
goes. On a phone in 简体中文 and on a desktop in English.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from questions import services as question_services
from questions.models import Notification
from tests.e2e.conftest import DESKTOP, OVERFLOW, PHONE, SignedIn
from tests.factories import add_member, make_community, organiser_of
from tests.questions.helpers import published

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("viewport", "language"),
    [pytest.param(PHONE, "zh-hans", id="phone-zh"), pytest.param(DESKTOP, "en", id="desktop-en")],
)
def test_opening_a_notification_marks_it_read_and_the_count_goes(
    signed_in: SignedIn,
    live_server: Any,
    artifacts: Path,
    midweek: datetime.datetime,
    viewport: dict[str, int],
    language: str,
) -> None:
    community = make_community(slug=f"bell-{language}", name="Bell circle")
    asker = add_member(community, profile={"handle": "asker"})
    invitee = add_member(community, profile={"handle": "invitee"})
    question = published(asker, title="Where do our new members drop off?")
    question_services.invitations_create(
        moderator=organiser_of(community), question=question, invitees=[invitee.pk]
    )
    [notification] = Notification.objects.filter(recipient=invitee.user)
    assert notification.read_at is None

    page = signed_in(invitee.user, viewport=viewport, language=language)
    page.goto(f"{live_server.url}/c/{community.slug}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    bell = page.locator(".bar-count")
    if viewport == PHONE:  # on the bar next to ☰, the menu closed
        expect(bell).to_be_visible()
        expect(bell).to_contain_text("1")
        expect(page.locator(".menu-account")).to_be_hidden()
    else:  # in the account menu on wider screens
        expect(page.locator(".menu-account .nav-count")).to_have_text("1")
    page.screenshot(path=artifacts / f"bell-1-unread-{language}.png", full_page=True)

    page.goto(f"{live_server.url}/notifications/")
    row = page.locator("li.notification").first
    expect(row).to_have_class("notification unread")
    assert page.evaluate(OVERFLOW) <= 0
    row.locator("a").click()
    expect(page).to_have_url(f"{live_server.url}/c/{community.slug}/questions/{question.pk}/")
    expect(page.get_by_role("heading", name=question.title)).to_be_visible()
    expect(page.locator(".bar-count")).to_have_count(0)
    expect(page.locator(".nav-count")).to_have_count(0)
    notification.refresh_from_db()
    assert notification.read_at is not None

    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("li.notification").first).to_have_class("notification")
    page.screenshot(path=artifacts / f"bell-2-read-{language}.png", full_page=True)
