"""Moderation in the portal's own look (issue 12), in the browser: the on-duty console and the
community-scoped admin's lists at a laptop's 1366x768 and a phone's 390x844, in English and in
简体中文. On every page the portal's header is there, nothing runs off the side of the window
(a wide table scrolls inside its own box, and at 1366 px no list's column is cut off at all),
and times are in the community's own zone (New York here; the server's is UTC and the other
community's is Shanghai).

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import Page, expect

from members import weeks
from members.models import Community, Membership
from questions import services as question_services
from questions.models import Comment, Question
from rotation import services as rotation
from rotation.models import Shift
from tests.e2e.conftest import DESKTOP, PHONE, SignedIn
from tests.factories import UserFactory, add_member, make_community

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_YORK = "America/New_York"
LONG_TITLE = (
    "新会员第一周流失严重，onboarding 邮件该怎么改？ How should the first week's e-mails "
    "change so that newcomers stay past their first seven days in the community?"
)

# Any horizontal overflow: the page wider than the window, or a table running past the
# window's edge without a scrolling box of its own around it.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const loose = [...document.querySelectorAll('table')].filter((table) => {
    if (table.getBoundingClientRect().right <= width + 0.5) return false;
    for (let box = table.parentElement; box; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return false;
    }
    return true;
  });
  return {page: document.documentElement.scrollWidth - window.innerWidth, tables: loose.length};
}"""
# Columns cut off: a list's table wider than its (scrolling) box.
CUT_OFF = """() => [...document.querySelectorAll('#changelist .results')]
  .map((box) => box.scrollWidth - box.clientWidth)"""


@dataclass(frozen=True)
class Duty:
    community: Community  # New York
    elsewhere: Community  # Shanghai, moderated by the same person
    moderator: Membership
    brief: Question
    submitted_at: datetime.datetime
    comment: Comment


@pytest.fixture
def duty(midweek: datetime.datetime) -> Duty:
    """A moderator of two communities in different zones, on duty this week in the New York
    one, with briefs (long titles) waiting in both and a comment to moderate."""
    community = make_community(
        slug="ny-circle", name="纽约产品圈 · New York Circle", time_zone=NEW_YORK
    )
    elsewhere = make_community(slug="sh-circle", name="上海产品圈 · Shanghai Circle")
    user = UserFactory(username="mod", email="mod@example.com")
    moderator = add_member(
        community, user=user, role=Membership.Role.MODERATOR, profile={"handle": "mod"}
    )
    add_member(elsewhere, user=user, role=Membership.Role.MODERATOR, profile={"handle": "mod"})
    rotation.roster_join(membership=moderator, now=timezone.now() - datetime.timedelta(days=10))
    this_week = weeks.start_of(community)
    assert rotation.shifts_fix_through(community=community, week=this_week, now=timezone.now())

    # 03:30 UTC: the evening before in New York, 11:30 in Shanghai.
    day = (midweek - datetime.timedelta(days=10)).date()
    submitted_at = datetime.datetime.combine(day, datetime.time(3, 30), tzinfo=datetime.UTC)

    def brief(where: Community, handle: str, title: str) -> Question:
        asker = add_member(where, profile={"handle": handle})
        question = question_services.question_create(
            author=asker, title=title, background="背景 background", wanted="方法 method"
        )
        Question.objects.filter(pk=question.pk).update(submitted_at=submitted_at)
        return question

    waiting = brief(community, "lin", LONG_TITLE)
    brief(elsewhere, "wang", f"上海 · {LONG_TITLE}")
    published = question_services.question_schedule(
        moderator=moderator, question=brief(community, "mei", "A scheduled brief"), week=this_week
    )
    answerer = add_member(community, profile={"handle": "alice"})
    answer = question_services.answer_create(author=answerer, question=published, body="答案")
    comment = question_services.comment_create(
        author=add_member(community, profile={"handle": "bob"}),
        answer=answer,
        body="这条评论有点跑题 · This comment wanders off the topic for a good while " * 3,
    )
    return Duty(community, elsewhere, moderator, waiting, submitted_at, comment)


def _local(moment: datetime.datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _check_page(page: Page, language: str, viewport: dict[str, int], shot: Path) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("header.site-header .brand")).to_be_visible()
    page.screenshot(path=shot, full_page=True)
    overflow = page.evaluate(OVERFLOW)
    assert overflow == {"page": 0, "tables": 0} or (
        overflow["page"] <= 0 and overflow["tables"] == 0
    ), (shot.name, overflow)
    if viewport == DESKTOP:
        assert all(extra <= 0 for extra in page.evaluate(CUT_OFF)), shot.name


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_console_and_moderation_lists_in_the_portal_s_look_and_zone(
    signed_in: SignedIn,
    live_server: Any,
    duty: Duty,
    artifacts: Path,
    viewport: dict[str, int],
    language: str,
) -> None:
    base = str(live_server)
    page = signed_in(duty.moderator.user, viewport=viewport, language=language)
    name = f"moderation-{viewport['width']}-{language}"
    in_new_york = _local(duty.submitted_at, NEW_YORK)
    in_shanghai = _local(duty.submitted_at, "Asia/Shanghai")
    in_utc = _local(duty.submitted_at, "UTC")
    assert len({in_new_york, in_shanghai, in_utc}) == 3

    # The on-duty console: the brief's day is New York's (the evening before, in UTC terms).
    page.goto(f"{base}/c/{duty.community.slug}/duty/")
    card = page.locator(f"#brief-{duty.brief.pk}")
    expect(card).to_contain_text(in_new_york[:10])
    expect(card).not_to_contain_text(in_utc[:10])
    _check_page(page, language, viewport, artifacts / f"{name}-1-console.png")

    # The briefs: each row in its own community's zone, the column "submitted at".
    page.goto(f"{base}/manage/questions/question/")
    row = page.locator("#result_list tr").filter(has_text="纽约产品圈")
    expect(row.locator("td.field-submitted time")).to_have_text(in_new_york)
    other = page.locator("#result_list tr").filter(has_text="上海产品圈")
    expect(other.locator("td.field-submitted time")).to_have_text(in_shanghai)
    expect(page.locator("#result_list")).not_to_contain_text(in_utc)
    _check_page(page, language, viewport, artifacts / f"{name}-2-briefs.png")

    # The comments, filtered to the New York community.
    page.goto(f"{base}/manage/questions/comment/?community={duty.community.pk}")
    expect(page.locator("#result_list td.field-written time")).to_have_text(
        _local(duty.comment.created_at, NEW_YORK)
    )
    _check_page(page, language, viewport, artifacts / f"{name}-3-comments.png")

    # The shifts.
    page.goto(f"{base}/manage/rotation/shift/")
    shifts = Shift.objects.filter(community__in=[duty.community, duty.elsewhere]).count()
    assert shifts
    expect(page.locator("#result_list tbody tr")).to_have_count(shifts)
    _check_page(page, language, viewport, artifacts / f"{name}-4-shifts.png")

    # A row's page: its times in its community's zone too.
    page.goto(f"{base}/manage/questions/question/{duty.brief.pk}/change/")
    with translation.override(language):
        shown = formats.localize(timezone.localtime(duty.submitted_at, ZoneInfo(NEW_YORK)))
        in_server_zone = formats.localize(timezone.localtime(duty.submitted_at, datetime.UTC))
    expect(page.locator(".field-submitted_at .readonly")).to_have_text(shown)
    assert shown != in_server_zone
    _check_page(page, language, viewport, artifacts / f"{name}-5-brief.png")
