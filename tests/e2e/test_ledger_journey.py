"""An organiser's money journey in the browser: sign in with password and authenticator code,
record a cash payment through the form, find it in the ledger with its entries and the
balances, put a mistake right, read the weekly statements and the chart, export the ledger
as CSV. Each step is checked on the page and in the database.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from members import weeks
from members.models import Community, Membership
from rewards import ledger, services
from rewards.models import Payment, Refund, Transaction
from rewards.selectors import account_key
from tests.factories import (
    PASSWORD,
    UserFactory,
    add_member,
    make_community,
    organiser_of,
    totp_activate,
    totp_code,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Fund:
    community: Community
    organiser: Membership
    payer: Membership
    secret: str  # the organiser's authenticator app


@pytest.fixture
def fund() -> Fund:
    """A community whose organiser has an authenticator app, with two members who paid their
    entrance fee by bank transfer three weeks ago; one more member yet to pay."""
    organiser_user = UserFactory(username="zhiyuan", email="zhiyuan@example.com")
    community = make_community(organiser=organiser_user, slug="fund-circle", name="基金圈 · Fund")
    organiser = organiser_of(community)
    when = timezone.now() - 21 * DAY
    for handle in ("early-bird", "night-owl"):
        member = add_member(community, profile={"handle": handle})
        services.payment_record(
            community=community,
            membership=member,
            kind=Payment.Kind.ENTRANCE,
            amount=20000,
            received_at=when,
            method=Payment.Method.BANK_TRANSFER,
            recorded_by=organiser_user,
        )
    payer = add_member(community, profile={"handle": "newcomer"})
    return Fund(community, organiser, payer, totp_activate(organiser_user))


def tabs(page: Page) -> Locator:
    """The money pages' own tabs (the header has some of the same links)."""
    return page.locator("main p.tabs")


def _sign_in_with_code(page: Page, base: str, fund: Fund, artifacts: Path) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(fund.organiser.user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # allauth asks for the authenticator code after the password
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(totp_code(fund.secret))
    page.screenshot(path=artifacts / "m01-two-factor.png", full_page=True)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()


def test_organiser_records_a_payment_and_reviews_the_ledger(
    page: Page, live_server: Any, fund: Fund, artifacts: Path
) -> None:
    base = str(live_server)
    slug = fund.community.slug

    # given: a member cannot open the organiser's ledger
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(fund.payer.user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    response = page.goto(f"{base}/c/{slug}/ledger/")
    assert response is not None
    assert response.status == 403
    page.context.clear_cookies()

    # when: the organiser signs in with password and code
    _sign_in_with_code(page, base, fund, artifacts)

    # and records yesterday's cash payment of the newcomer's entrance fee
    yesterday = timezone.localtime(timezone.now() - DAY, SHANGHAI).replace(
        hour=10, minute=30, second=0, microsecond=0
    )
    page.goto(f"{base}/c/{slug}/payments/new/")
    expect(page.get_by_role("heading", name="Record an offline payment")).to_be_visible()
    page.get_by_label("Member").select_option(label="newcomer")
    page.get_by_label("For").select_option(label="Entrance fee")
    page.get_by_label("Amount").fill("200.00")
    page.get_by_label("Received at").fill(f"{yesterday:%Y-%m-%d %H:%M}")
    page.get_by_label("How").select_option(label="Cash")
    page.get_by_label("Reference").fill("收据 0042")
    page.get_by_role("button", name="Record").click()

    # then: it is recorded, in fen, at the local time typed
    expect(page).to_have_url(f"{base}/c/{slug}/payments/")
    expect(page.locator("ul.messages li.success")).to_have_text("Payment recorded.")
    payment = Payment.objects.get(membership=fund.payer)
    assert (payment.kind, payment.method, payment.amount, payment.reference) == (
        "entrance",
        "cash",
        20000,
        "收据 0042",
    )
    assert payment.received_at == yesterday  # typed in the community's time zone
    row = page.locator(f"#payments tr[data-payment='{payment.pk}']")
    expect(row.locator("td").nth(1)).to_have_text("newcomer")
    expect(row.locator("td").nth(3)).to_have_text("Cash")
    expect(row.locator("td").nth(4)).to_have_text("¥200.00")
    page.screenshot(path=artifacts / "m02-payment-recorded.png", full_page=True)

    # when: the ledger is opened
    tabs(page).get_by_role("link", name="Ledger", exact=True).click()
    expect(page).to_have_url(f"{base}/c/{slug}/ledger/")

    # then: the payment is the newest transaction, cash in and the reward fund credited
    posted = Transaction.objects.get(payment=payment)
    newest = page.locator("#transactions tr.transaction").first
    expect(newest).to_have_attribute("data-id", str(posted.pk))
    expect(newest).to_contain_text("Entrance fee · newcomer")
    expect(newest.locator("td").nth(2).locator("div")).to_have_text(
        ["Offline cash (bank transfers, cash): ¥200.00", "Reward fund: -¥200.00"]
    )
    balances = page.locator("#balances")
    expect(balances.locator("tr[data-account='offline_cash'] td.num")).to_have_text("¥600.00")
    expect(balances.locator("tr[data-account='reward_fund'] td.num")).to_have_text("-¥600.00")
    expect(balances.locator("tfoot td, tfoot th").last).to_have_text("¥0.00")
    page.screenshot(path=artifacts / "m03-ledger.png", full_page=True)

    # when: they filter the ledger by the member's handle
    page.get_by_label("Member").fill("newcomer")
    page.get_by_role("button", name="Filter").click()
    # then: only the newcomer's transaction
    expect(page.locator("#transactions tr.transaction")).to_have_count(1)

    # when: it turns out 50.00 of it was change given back: a correction
    tabs(page).get_by_role("link", name="Payments", exact=True).click()
    row = page.locator(f"#payments tr[data-payment='{payment.pk}']")
    row.locator("summary").click()
    row.get_by_label("Amount to reverse").fill("50.00")
    row.get_by_label("Why").fill("找零 50 元 — change given back")
    row.get_by_role("button", name="Reverse").click()

    # then: a reversing transaction; the payment stays as it was
    expect(page.locator("ul.messages li.success")).to_have_text(
        "Reversed; the reversing entries are in the ledger."
    )
    refund = Refund.objects.get(payment=payment)
    assert (refund.reason, refund.amount) == (Refund.Reason.CORRECTION, 5000)
    tabs(page).get_by_role("link", name="Ledger", exact=True).click()
    page.get_by_label("Kind").select_option(label="Refund or reversal")
    page.get_by_role("button", name="Filter").click()
    reversing = page.locator("#transactions tr.transaction")
    expect(reversing).to_have_count(1)
    expect(reversing.locator("td").nth(2).locator("div")).to_have_text(
        ["Offline cash (bank transfers, cash): -¥50.00", "Reward fund: ¥50.00"]
    )
    expect(balances.locator("tr[data-account='offline_cash'] td.num")).to_have_text("¥550.00")
    page.screenshot(path=artifacts / "m04-ledger-correction.png", full_page=True)

    # when: the weekly statements are opened
    tabs(page).get_by_role("link", name="Weekly statements").click()
    expect(page).to_have_url(f"{base}/c/{slug}/ledger/weeks/")

    # then: the chart of the funds and budgets, and the week of the payment with its figures
    expect(page.locator("svg.line-chart polyline")).to_have_count(4)
    expect(page.locator("figcaption .legend")).to_have_text(
        ["Reward fund", "Operations fund", "Weekly reward budget", "Weekly operations budget"]
    )
    week = page.locator(
        f"#statements tr[data-week='{weeks.label(weeks.start_of(fund.community, yesterday))}']"
    )
    expect(week.locator("td").nth(3)).to_have_text("¥200.00")  # entrance fees in
    page.locator("figure.chart").screenshot(path=artifacts / "m05-chart.png")
    page.screenshot(path=artifacts / "m06-statements.png", full_page=True)

    # when: the ledger is exported
    with page.expect_download() as download_info:
        tabs(page).get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"{slug}-ledger.csv"
    saved = artifacts / "m07-ledger.csv"
    download.save_as(saved)

    # then: every entry, and per account the totals are the balances, to the fen
    rows = list(csv.DictReader(io.StringIO(saved.read_text("utf-8-sig"))))
    assert len(rows) == 2 * Transaction.objects.filter(community=fund.community).count() == 8
    totals: dict[str, int] = defaultdict(int)
    for line in rows:
        totals[line["account"]] += int(line["amount"])
    assert dict(totals) == {
        account_key(account): balance
        for account, balance in ledger.balances(community=fund.community)
    }
    assert dict(totals) == {"offline_cash": 55000, "reward_fund": -55000}
