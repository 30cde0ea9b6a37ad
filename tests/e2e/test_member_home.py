"""A member's home in a community, in a real browser, in each state of the week: answers
open (Monday), voting (Friday, one vote cast), and the Monday after the close (last week's
winners, what the winner is owed). Each on a phone in 简体中文 and on a desktop in English;
nothing wider than the window. The clock is moved with time-machine, never waited for.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from community import weekly
from members.models import Membership
from questions import votes
from tests.e2e.conftest import DESKTOP, OVERFLOW, PHONE, SignedIn
from tests.rewards.weekly_helpers import (
    FRIDAY_W45,
    W45,
    funded_community,
    questions_with_answers,
    voted_week,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = [
    pytest.param((PHONE, "zh-hans"), id="phone-zh"),
    pytest.param((DESKTOP, "en"), id="desktop-en"),
]


@dataclass(frozen=True)
class Home:
    """A member's home seen at one size, in one language (the test's parameters)."""

    signed_in: SignedIn
    url: str  # the live server's
    artifacts: Path
    viewport: dict[str, int]
    language: str

    def open(self, membership: Membership) -> Page:
        page = self.signed_in(membership.user, viewport=self.viewport, language=self.language)
        page.goto(f"{self.url}/c/{membership.community.slug}/")
        expect(page.locator("html")).to_have_attribute("lang", self.language)
        return page

    def fits(self, page: Page, name: str) -> None:
        """Nothing wider than the window; the page saved as ``home-{name}-{language}.png``."""
        assert page.evaluate(OVERFLOW) <= 0
        page.screenshot(path=self.artifacts / f"home-{name}-{self.language}.png", full_page=True)


@pytest.fixture(params=SIZES)
def home(
    request: pytest.FixtureRequest, signed_in: SignedIn, live_server: Any, artifacts: Path
) -> Home:
    viewport, language = request.param
    return Home(signed_in, live_server.url, artifacts, viewport, language)


def test_home_while_answers_are_open(
    home: Home, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(
        time_machine, members=52, slug=f"home-open-{home.language}"
    )
    questions_with_answers(community, people, questions=2, answers=3)
    page = home.open(people[5])
    expect(page.locator(".week-glance")).to_have_attribute("data-phase", "open")
    expect(page.locator(".week-glance")).to_contain_text("2026-W45")
    expect(page.locator(".glance li")).to_have_count(2)
    expect(page.get_by_role("link", name="Question 0")).to_be_visible()
    expect(page.locator(".glance")).to_contain_text("¥200.00")
    home.fits(page, "1-open")
    # the question's link opens it
    page.get_by_role("link", name="Question 0").click()
    expect(page.get_by_role("heading", name="Question 0")).to_be_visible()


def test_home_while_voting_shows_votes_left_and_leads_to_the_ballot(
    home: Home, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(
        time_machine, members=52, slug=f"home-vote-{home.language}"
    )
    week = questions_with_answers(community, people, questions=2, answers=3)
    time_machine.move_to(FRIDAY_W45)
    voter = people[40]
    votes.vote_cast(voter=voter, answer=week.answers[0])
    page = home.open(voter)
    glance = page.locator(".week-glance")
    expect(glance).to_have_attribute("data-phase", "voting")
    left = community.votes_per_member - 1
    expect(glance).to_contain_text(f"{left}")
    expect(page.locator(".glance")).to_contain_text(f"{left}")
    home.fits(page, "2-voting")
    glance.locator("a.button").click()
    expect(page).to_have_url(f"{home.url}/c/{community.slug}/ballot/")


def test_home_after_the_close_shows_last_weeks_winners_and_the_winners_earnings(
    home: Home, time_machine: time_machine.TimeMachineFixture
) -> None:
    week = voted_week(time_machine, slug=f"home-close-{home.language}")
    weekly.week_close(community=week.community, week=W45)
    winner = week.answers[2].author
    page = home.open(winner)
    last = page.locator(".last-week")
    expect(last).to_contain_text("2026-W45")
    expect(last.locator("li")).to_have_count(3)
    expect(last.locator("li").first).to_contain_text(str(winner.profile.handle))
    expect(last.locator("li").first).to_contain_text("¥100.00")
    expect(page.locator(".needs-me")).to_contain_text("¥100.00")
    expect(page.locator(".week-glance")).to_contain_text("2026-W46")
    home.fits(page, "3-closed")
