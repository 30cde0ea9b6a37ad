"""The moderator rotation in the browser, three people in three browsers: a member signs up
on the roster page, a second member signs up after them; the first asks the second to swap
their next shifts and the second accepts, and the schedule shows the two weeks swapped; then
the member on duty this week opens the on-duty console. Each step is checked on the page and
in the database.

The weeks are built relative to the community's current week (members.weeks.start_of), whose
shift is fixed in the setup. Screenshots go to $E2E_ARTIFACTS (default:
<project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from members import weeks
from members.models import Community, Membership
from questions import services as question_services
from questions.models import Question
from rotation import services as rotation
from rotation.models import Override, RosterEntry, Shift, SwapRequest
from tests.factories import PASSWORD, UserFactory, add_member, make_community

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEEK = datetime.timedelta(days=7)
BRIEF = "新人第一周怎么带？ · How do we welcome newcomers?"


@dataclass(frozen=True)
class Rota:
    community: Community
    on_duty: Membership  # on the roster already; this week's shift is theirs
    first: Membership  # signs up first, asks to swap
    second: Membership  # signs up second, accepts
    this_week: datetime.date


@pytest.fixture
def rota(midweek: datetime.datetime) -> Rota:
    """A community whose roster has one moderator, on duty this week (the week's shift is
    fixed, as the beat does when a week begins), two members not on the roster yet, and a
    brief waiting to be scheduled."""
    community = make_community(slug="rota", name="轮值圈 · Rota Circle")

    def person(handle: str) -> Membership:
        user = UserFactory(username=handle, email=f"{handle}@example.com")
        return add_member(community, user=user, profile={"handle": handle})

    on_duty, first, second = person("wei"), person("lin"), person("alice")
    this_week = weeks.start_of(community)
    rotation.roster_join(membership=on_duty, now=timezone.now() - datetime.timedelta(days=10))
    shift = rotation.shifts_fix_through(community=community, week=this_week, now=timezone.now())
    assert shift is not None
    assert shift.moderator_id == on_duty.pk
    question_services.question_create(
        author=person("mei"),
        title=BRIEF,
        background="每月进来二十位新人，第一周就沉默了一半。",
        wanted="A first-week routine the moderator can run.",
    )
    return Rota(community, on_duty, first, second, this_week)


def _signed_in(new_context: Callable[..., BrowserContext], base: str, email: str) -> Page:
    """A fresh browser (its own cookies) with ``email`` signed in."""
    page = new_context().new_page()
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    return page


def _row(page: Page, week: datetime.date) -> Any:
    return page.locator(f"#schedule tr[data-week='{weeks.label(week)}']")


def test_members_sign_up_swap_shifts_and_the_moderator_on_duty_opens_the_console(
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    rota: Rota,
    artifacts: Path,
) -> None:
    base = str(live_server)
    slug = rota.community.slug
    roster_url = f"{base}/c/{slug}/roster/"
    this_week = rota.this_week
    next_week, week_after = this_week + WEEK, this_week + 2 * WEEK

    # --- 1. A member signs up on the roster page --------------------------------------------
    first = _signed_in(new_context, base, "lin@example.com")
    first.goto(roster_url)
    expect(first.locator("#roster li")).to_have_count(1)
    expect(first.locator("#roster li")).to_contain_text("wei")
    first.locator("#sign-up").click()
    expect(first.locator("ul.messages li.success")).to_have_text(
        "You are on the roster: your shifts are in the schedule."
    )
    expect(first).to_have_url(roster_url)
    expect(first.locator("#on-roster")).to_be_visible()
    expect(first.locator("#sign-up")).to_have_count(0)
    expect(first.locator("#roster li")).to_have_count(2)
    # this week stays the one on duty's; the rotation goes on down the roster after them
    expect(_row(first, this_week).locator("td").nth(1)).to_have_text("wei")
    expect(_row(first, this_week).locator("td").nth(2)).to_have_text("on duty now")
    expect(_row(first, next_week).locator("td").nth(1)).to_have_text("lin")
    expect(_row(first, week_after).locator("td").nth(1)).to_have_text("wei")
    first.screenshot(path=artifacts / "rotation-01-signed-up.png", full_page=True)
    assert list(
        RosterEntry.objects.filter(community=rota.community, left_at__isnull=True)
        .order_by("signed_up_at", "pk")
        .values_list("membership_id", flat=True)
    ) == [rota.on_duty.pk, rota.first.pk]

    # --- 2. A second member signs up: at the end of the roster ------------------------------
    second = _signed_in(new_context, base, "alice@example.com")
    second.goto(roster_url)
    second.locator("#sign-up").click()
    expect(second.locator("ul.messages li.success")).to_have_text(
        "You are on the roster: your shifts are in the schedule."
    )
    expect(second.locator("#roster li")).to_have_count(3)
    expect(second.locator("#roster li").nth(2)).to_contain_text("alice")
    expect(_row(second, next_week).locator("td").nth(1)).to_have_text("lin")
    expect(_row(second, week_after).locator("td").nth(1)).to_have_text("alice")
    expect(_row(second, this_week + 3 * WEEK).locator("td").nth(1)).to_have_text("wei")

    # --- 3. The first asks the second to swap: lin's next week for alice's week after --------
    first.reload()
    form = first.locator("#swap-form")
    form.locator("select[name=requester_week]").select_option(weeks.label(next_week))
    form.locator("select[name=target]").select_option(f"{rota.second.pk}:{weeks.label(week_after)}")
    form.get_by_role("button", name="Ask to swap").click()
    expect(first.locator("ul.messages li.success")).to_have_text(
        "Asked; the other moderator is notified."
    )
    swap = SwapRequest.objects.get(community=rota.community)
    expect(first.locator(f"#swap-{swap.pk}")).to_contain_text("waiting for an answer")
    assert (swap.requester_id, swap.requester_week, swap.responder_id, swap.responder_week) == (
        rota.first.pk,
        next_week,
        rota.second.pk,
        week_after,
    )
    assert swap.state == SwapRequest.State.PENDING

    # --- 4. The second accepts: the two weeks are swapped and pinned ------------------------
    second.reload()
    asked = second.locator(f"#swap-{swap.pk}")
    expect(asked).to_contain_text("lin asks to swap")
    asked.locator("button.accept").click()
    expect(second.locator("ul.messages li.success")).to_have_text("Swapped: both weeks are pinned.")
    expect(second.locator(f"#swap-{swap.pk}")).to_have_count(0)
    for week, handle in ((next_week, "alice"), (week_after, "lin")):
        expect(_row(second, week).locator("td").nth(1)).to_have_text(handle)
        expect(_row(second, week).locator("td").nth(2)).to_have_text("swapped")
    # the rotation underneath did not move
    expect(_row(second, this_week + 3 * WEEK).locator("td").nth(1)).to_have_text("wei")
    expect(_row(second, this_week + 4 * WEEK).locator("td").nth(1)).to_have_text("lin")
    second.screenshot(path=artifacts / "rotation-02-swap-accepted.png", full_page=True)
    swap.refresh_from_db()
    assert swap.state == SwapRequest.State.ACCEPTED
    assert sorted(
        Override.objects.filter(community=rota.community).values_list("week", "membership_id")
    ) == [(next_week, rota.second.pk), (week_after, rota.first.pk)]
    # and the first sees it too
    first.reload()
    expect(_row(first, next_week).locator("td").nth(1)).to_have_text("alice")
    expect(_row(first, week_after).locator("td").nth(1)).to_have_text("lin")

    # --- 5. The member on duty this week opens the on-duty console --------------------------
    on_duty = _signed_in(new_context, base, "wei@example.com")
    on_duty.goto(roster_url)
    on_duty.locator("#open-console").click()
    expect(on_duty).to_have_url(f"{base}/c/{slug}/duty/")
    expect(on_duty.locator("h1")).to_have_text(f"On-duty console · {weeks.label(this_week)}")
    expect(on_duty.get_by_text("Moderator on duty: wei.")).to_be_visible()
    for section in ("#duty-briefs", "#duty-answerers", "#duty-announcement", "#duty-kpis"):
        expect(on_duty.locator(section)).to_be_visible()
    brief = Question.objects.get(community=rota.community, title=BRIEF)
    expect(on_duty.locator(f"#duty-briefs #brief-{brief.pk} strong")).to_have_text(BRIEF)
    expect(on_duty.locator("#duty-answerers tbody tr")).to_have_text(
        ["No question is scheduled in this week yet."]
    )
    expect(on_duty.locator("#duty-announcement button")).to_have_text("Post the announcement")
    expect(on_duty.locator("#kpi-answerers")).to_have_text("0 / 10")
    expect(on_duty.locator("#kpi-answers")).to_have_text("0")
    on_duty.screenshot(path=artifacts / "rotation-03-console.png", full_page=True)
    shift = Shift.objects.get(community=rota.community, week=this_week)
    assert (shift.moderator_id, shift.pinned) == (rota.on_duty.pk, False)
    assert Membership.objects.get(pk=rota.on_duty.pk).on_duty_week == this_week

    # while a member who only signed up may not open it this week
    first.goto(roster_url)
    expect(first.locator("#on-roster")).to_be_visible()
    expect(first.locator("#open-console")).to_have_count(0)
    refused = first.goto(f"{base}/c/{slug}/duty/")
    assert refused is not None
    assert refused.status == 403
