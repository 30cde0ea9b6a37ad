"""Every money page readable on a phone (issue 12): at 390 px wide no table is clipped and the
page never scrolls sideways — each table either fits or scrolls inside its own box with its
first column held in view — and the statements chart's panels, axis labels and legend fit.
Checked at a phone's and a desktop's viewport, in English and in Simplified Chinese, as the
organiser (ledger, statements, payments, payouts) and as a winning member (the fund, the
week's results, the leaderboard, the archive, their earnings).

The world: 2026-W45 of a community whose weekly reward budget is 200.00, voted on and closed
(three winners), one winner partly paid out after the hold, and an offline payment with a long
reference. The clock is moved with time-machine, never waited for. Screenshots go to the
``artifacts`` folder.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from community import weekly
from members.currency import format_amount
from members.models import Community, Membership
from rewards import payouts, selectors, services
from rewards.models import Payment, Prize
from tests.e2e.conftest import PHONE, SignedIn
from tests.factories import organiser_of
from tests.rewards.weekly_helpers import AFTER_W45, W45, voted_week

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LABEL = "2026-W45"
# A smaller desktop than conftest's DESKTOP (1366x768): the money tables are checked at it.
DESKTOP = {"width": 1280, "height": 900}
LANGUAGES = {"en": "en", "zh-hans": "zh-hans"}


@dataclass(frozen=True)
class World:
    community: Community
    organiser: Membership
    winner: Membership


@pytest.fixture
def world(time_machine: time_machine.TimeMachineFixture) -> World:
    week = voted_week(time_machine, slug="phone-money")
    community = week.community
    weekly.week_close(community=community, week=W45)
    first = Prize.objects.get(week_close__community=community, place=1)
    organiser = organiser_of(community)
    time_machine.move_to(AFTER_W45 + datetime.timedelta(hours=49))  # the hold is over
    payouts.payout_record(
        actor=organiser.user,
        community=community,
        member=first.membership_id,
        amount=4000,
        method="bank_transfer",
        reference="ICBC 2026-11-11 批量转账 reference 0000-1111-2222-3333",
    )
    services.payment_record(
        community=community,
        membership=week.members[3],
        kind=Payment.Kind.MONTHLY,
        amount=9900,
        received_at=AFTER_W45 + datetime.timedelta(hours=30),
        method=Payment.Method.BANK_TRANSFER,
        recorded_by=organiser.user,
        reference="招商银行 转账 a-very-long-reference-without-spaces-0123456789",
    )
    return World(community=community, organiser=organiser, winner=first.membership)


# Measures the page as laid out: whether it scrolls sideways, and for each table in <main>
# whether it fits the viewport or sits in a box that scrolls it — and then, scrolled to its
# far right, whether its first column's cells stayed where they were.
MEASURE = """() => {
  const width = window.innerWidth, slack = 1;
  const doc = document.documentElement;
  const tables = [...document.querySelectorAll("main table")].map((table) => {
    const box = table.getBoundingClientRect();
    const wrap = table.closest(".table-wrap");
    const result = {id: table.id || table.closest("section, div.card")?.id || "?",
                    fits: box.left >= -slack && box.right <= width + slack,
                    scrolls: false, firstColumnHeld: null};
    if (wrap) {
      const outer = wrap.getBoundingClientRect();
      const style = getComputedStyle(wrap);
      result.scrolls = ["auto", "scroll"].includes(style.overflowX)
        && outer.left >= -slack && outer.right <= width + slack;
      if (wrap.scrollWidth > wrap.clientWidth) {
        const cells = [...table.querySelectorAll("tr > :first-child")];
        wrap.scrollLeft = 0;
        const before = cells.map((cell) => cell.getBoundingClientRect().left);
        wrap.scrollLeft = wrap.scrollWidth;
        const after = cells.map((cell) => cell.getBoundingClientRect().left);
        result.firstColumnHeld = wrap.scrollLeft > 0
          && before.every((left, i) => Math.abs(left - after[i]) <= 1);
        wrap.scrollLeft = 0;
      }
    }
    return result;
  });
  return {lang: doc.lang, width, scrollWidth: doc.scrollWidth, tables};
}"""

CHART = """() => {
  const width = window.innerWidth;
  const inside = (el) => {
    const r = el.getBoundingClientRect();
    return r.left >= -1 && r.right <= width + 1;
  };
  const labels = [...document.querySelectorAll("svg.line-chart .axis-label")];
  return {
    panels: [...document.querySelectorAll("svg.line-chart")].map(inside),
    legends: [...document.querySelectorAll("figcaption .legend")].map(inside),
    smallestLabel: Math.min(...labels.map((l) => l.getBoundingClientRect().height)),
    labels: labels.map((l) => l.textContent),
  };
}"""


def _check(page: Page, url: str, language: str, shot: Path, *, tables: bool) -> dict[str, Any]:
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, url
    expect(page.locator("main h1").first).to_be_visible()
    measured: dict[str, Any] = page.evaluate(MEASURE)
    assert measured["lang"] == language, url
    assert measured["scrollWidth"] <= measured["width"], (url, measured)
    assert bool(measured["tables"]) == tables, url
    for table in measured["tables"]:
        assert table["fits"] or table["scrolls"], (url, table)
        if table["firstColumnHeld"] is not None:  # it scrolls: its first column stays
            assert table["firstColumnHeld"], (url, table)
    page.screenshot(path=shot, full_page=True)
    return measured


def _check_each(
    page: Page, pages: list[tuple[str, str, bool]], url: str, language: str, tag: str, shots: Path
) -> list[str]:
    """``_check`` each of ``pages`` (name, path below ``url``, whether it has tables); the ids of
    the tables that scrolled with their first column held."""
    scrolled: list[str] = []
    for name, path, tables in pages:
        shot = shots / f"money-{name}-{tag}.png"
        measured = _check(page, f"{url}/{path}", language, shot, tables=tables)
        scrolled += [t["id"] for t in measured["tables"] if t["firstColumnHeld"]]
    return scrolled


# (name, path, whether it has tables)
ORGANISER_PAGES = [
    ("ledger", "ledger/", True),
    ("ledger-by-handle", "ledger/?member=HANDLE", True),
    ("statements", "ledger/weeks/", True),
    ("payments", "payments/", True),
    ("payouts", "payouts/", True),
]
MEMBER_PAGES = [
    ("fund", "fund/", True),
    ("results", f"week/{LABEL}/results/", True),
    ("leaderboard", "leaderboard/?period=all", True),
    ("archive", "results/", False),
    ("earnings", "earnings/", False),
]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("language", list(LANGUAGES), ids=list(LANGUAGES))
def test_every_money_table_is_readable_on_a_phone_and_a_desktop(
    signed_in: SignedIn,
    live_server: Any,
    world: World,
    artifacts: Path,
    viewport: dict[str, int],
    language: str,
) -> None:
    base = str(live_server)
    slug = world.community.slug
    tag = f"{language}-{viewport['width']}"
    organiser = signed_in(world.organiser.user, viewport=viewport, language=language, mfa=True)
    member = signed_in(world.winner.user, viewport=viewport, language=language)

    # when: the organiser opens each money page; then: nothing is clipped
    handle = world.winner.profile.handle
    pages = [
        (name, path.replace("HANDLE", handle), tables) for name, path, tables in ORGANISER_PAGES
    ]
    scrolled = _check_each(organiser, pages, f"{base}/c/{slug}", language, tag, artifacts)

    # and the statements chart: both panels, the legend and the amounts on the axes fit
    organiser.goto(f"{base}/c/{slug}/ledger/weeks/")
    expect(organiser.locator("svg.line-chart")).to_have_count(2)
    chart = organiser.evaluate(CHART)
    assert chart["panels"] == [True, True]
    assert chart["legends"] == [True, True, True, True]
    assert chart["smallestLabel"] >= 10  # px, as drawn on this screen
    assert all(label.startswith("¥") for label in chart["labels"])
    organiser.locator("figure.chart").screenshot(path=artifacts / f"money-chart-{tag}.png")

    # when: a winning member opens theirs; then: nothing is clipped either
    scrolled += _check_each(member, MEMBER_PAGES, f"{base}/c/{slug}", language, tag, artifacts)

    # and the fund page shows what the reward fund holds as a positive amount
    held = selectors.fund_figures(membership=world.winner)
    assert held.reward_fund > 0
    member.goto(f"{base}/c/{slug}/fund/")
    expect(member.locator("#reward-fund")).to_have_text(
        format_amount(held.reward_fund, world.community.currency)
    )

    if viewport is PHONE:
        # the widest tables did not fit a phone: they scrolled, their first column held
        assert {"statements", "payables", "payouts"} <= set(scrolled), scrolled
    else:
        # a desktop shows every table whole but the statements' nine columns
        assert set(scrolled) <= {"statements"}, scrolled
