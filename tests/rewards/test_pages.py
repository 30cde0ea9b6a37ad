"""The portal's money pages: the organiser's ledger, weekly statements, payments, the offline
payment form, corrections and the CSV export — and the members' fund page. Organisers need a
sign-in with their second factor (COMMUNITY_ORGANISER_MFA_REQUIRED is on in the tests)."""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from members import weeks
from members.models import Community, CommunityAuditLog, Membership
from rewards import exports, ledger, schedules, selectors, services
from rewards.models import Account, Entry, Payment, Refund, Transaction
from tests.factories import (
    PASSWORD,
    add_member,
    bulk_payments,
    bulk_prizes,
    make_community,
    mfa_sign_in,
    organiser_of,
    set_status,
    totp_activate,
    totp_code,
)
from tests.rewards.helpers import RECEIVED, SHANGHAI, pay

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)
ORGANISER_PAGES = [
    "/c/circle/ledger/",
    "/c/circle/ledger/weeks/",
    "/c/circle/ledger/export.csv",
    "/c/circle/payments/",
    "/c/circle/payments/new/",
]


class Tables(HTMLParser):
    """The rows of a page's tables, by table id: (the row's attributes, its cells' text)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[dict[str, str], list[str]]]] = defaultdict(list)
        self._table = ""
        self._cell: list[str] | None = None
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
        elif tag == "tr" and self._table:
            self.tables[self._table].append(({k: v or "" for k, v in attrs}, []))
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag in ("details", "form"):
            self._skip += 1
        elif tag in ("br", "div") and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = ""
        elif tag in ("td", "th") and self._cell is not None and self.tables[self._table]:
            self.tables[self._table][-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag in ("details", "form"):
            self._skip -= 1
        elif tag == "div" and self._cell is not None:
            self._cell.append(" ")

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(data)


class Text(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.feed(html)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text(response: Any) -> str:
    """The page's text, whitespace collapsed."""
    return " ".join("".join(Text(response.content.decode()).parts).split())


def table(response: Any, table_id: str) -> list[tuple[dict[str, str], list[str]]]:
    return Tables(response.content.decode()).tables[table_id]


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Payment, Refund, Transaction, Entry, Account, CommunityAuditLog)
    }


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def organiser_client(client: Client, organiser: Membership) -> Client:
    """The organiser, signed in with password and TOTP code."""
    mfa_sign_in(client, organiser.user)
    return client


# --- The ledger -----------------------------------------------------------------------------


def test_the_ledger_page_shows_the_balances_and_every_transaction_with_its_entries(
    organiser_client: Client,
    books: dict[str, Transaction],
    organiser: Membership,
    moderator: Membership,
) -> None:
    response = organiser_client.get("/c/circle/ledger/")

    assert response.status_code == 200
    assert [(attrs.get("data-account"), cells) for attrs, cells in table(response, "balances")] == [
        (None, ["Account", "Balance"]),
        (f"member_payable:{moderator.pk}", ["Payable to a member · mod", "-¥30.00"]),
        ("offline_cash", ["Offline cash (bank transfers, cash)", "¥160.00"]),
        ("operations_fund", ["Operations fund", "-¥10.00"]),
        ("reward_fund", ["Reward fund", "-¥120.00"]),
        (None, ["Total", "¥0.00"]),
    ]
    rows = table(response, "transactions")[1:]
    assert [int(attrs["data-id"]) for attrs, _cells in rows] == [
        books[n].pk for n in ("prize", "correction", "monthly", "entrance")
    ]
    username = organiser.user.username
    assert [cells for _attrs, cells in rows] == [
        [
            "2026-05-10 23:00",
            "Prize Week closed",
            f"Reward fund: ¥30.00 Payable to a member #{moderator.pk}: -¥30.00",
        ],
        [
            "2026-05-07 18:00",
            "Correction of a mistaken record · Entrance fee · plain Refund or reversal · "
            + username,
            "Offline cash (bank transfers, cash): -¥50.00 Reward fund: ¥50.00",
        ],
        [
            "2026-05-06 09:30",
            f"Monthly fee · mod Payment received · {username}",
            "Offline cash (bank transfers, cash): ¥10.00 Operations fund: -¥10.00",
        ],
        [
            "2026-03-04 12:00",
            f"Entrance fee · plain Payment received · {username}",
            "Offline cash (bank transfers, cash): ¥200.00 Reward fund: -¥200.00",
        ],
    ]


def test_a_full_reversal_says_what_it_reverses(
    organiser_client: Client, member: Membership
) -> None:
    payment = pay(member, Payment.Kind.MONTHLY, 1000)
    services.payment_reverse(payment=payment, reason=Refund.Reason.CORRECTION)
    original = Transaction.objects.get(payment=payment)

    rows = table(organiser_client.get("/c/circle/ledger/"), "transactions")[1:]

    assert f"Refund or reversal · reverses #{original.pk}" in rows[0][1][1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=refund", ["correction"]),
        ("kind=week_close", ["prize"]),
        ("week=2026-W10", ["entrance"]),
        ("week=2026-W19&kind=payment", ["monthly"]),
        ("member=MEMBER", ["correction", "entrance"]),
        ("kind=&week=&member=", ["prize", "correction", "monthly", "entrance"]),
    ],
)
def test_the_ledger_page_filters_by_kind_week_and_member(
    organiser_client: Client,
    books: dict[str, Transaction],
    member: Membership,
    query: str,
    expected: list[str],
) -> None:
    response = organiser_client.get(f"/c/circle/ledger/?{query.replace('MEMBER', str(member.pk))}")
    assert response.status_code == 200
    rows = table(response, "transactions")[1:]
    assert [int(attrs["data-id"]) for attrs, _cells in rows] == [books[n].pk for n in expected]


def test_a_filter_that_matches_nothing_says_so(
    organiser_client: Client, books: dict[str, Transaction]
) -> None:
    response = organiser_client.get("/c/circle/ledger/?week=2026-W20")
    assert table(response, "transactions")[1:] == [({}, ["No transactions match."])]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=bogus", "kind"),
        ("week=2026-48", "week"),
        ("week=2026-W54", "week"),
        ("member=abc", "member"),
        ("member=0", "member"),
        ("member=999999", "member"),
        ("member=ELSEWHERE", "member"),
    ],
)
def test_bad_ledger_filters_are_form_errors(
    organiser_client: Client, books: dict[str, Transaction], query: str, field: str
) -> None:
    elsewhere = add_member(make_community(slug="elsewhere"), profile={"handle": "outsider"})
    response = organiser_client.get(
        f"/c/circle/ledger/?{query.replace('ELSEWHERE', str(elsewhere.pk))}"
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert response.context["page"] is None
    assert table(response, "transactions") == []
    assert len(table(response, "balances")) == 6  # the balances are still there


def test_the_ledger_pages_through_fifty_transactions_at_a_time(
    organiser_client: Client, member: Membership
) -> None:
    bulk_payments(
        member.community,
        [(member, Payment.Kind.MONTHLY, 1000, RECEIVED + k * DAY) for k in range(60)],
    )
    first = organiser_client.get("/c/circle/ledger/?kind=payment")
    assert len(table(first, "transactions")) == 51
    # the "Next" link keeps the filter
    assert '<a href="?kind=payment&amp;page=2">Next</a>' in first.content.decode()
    second = organiser_client.get("/c/circle/ledger/?kind=payment&page=2")
    assert len(table(second, "transactions")) == 11
    assert '<a href="?kind=payment&amp;page=1">Previous</a>' in second.content.decode()
    assert "Next</a>" not in second.content.decode()


# --- Weekly statements and the chart --------------------------------------------------------


@pytest.fixture
def recent(member: Membership, moderator: Membership) -> dict[str, Any]:
    """Three weeks ago on Wednesday: an entrance fee of 52.00 (1.00 a week for 52 weeks) and a
    monthly fee of 1.00 a day of the month it covers; last Wednesday 5.20 of the entrance fee
    corrected (0.10 a week less from this week on)."""
    community = member.community
    this_week = weeks.start_of(community)
    received = datetime.datetime.combine(
        this_week - 3 * WEEK + 2 * DAY, datetime.time(12), tzinfo=SHANGHAI
    )
    covered = (schedules.month_after(received.date()) - received.date()).days
    entrance = pay(member, Payment.Kind.ENTRANCE, 5200, received)
    pay(moderator, Payment.Kind.MONTHLY, 100 * covered, received)
    services.payment_reverse(
        payment=entrance, reason=Refund.Reason.CORRECTION, amount=520, at=received + 2 * WEEK
    )
    return {"this_week": this_week, "covered": covered}


def test_the_statements_page_shows_each_week_s_budgets_money_in_and_back(
    organiser_client: Client, recent: dict[str, Any]
) -> None:
    this_week, covered = recent["this_week"], recent["covered"]
    monthly = f"¥{covered}.00"

    response = organiser_client.get("/c/circle/ledger/weeks/")

    assert response.status_code == 200
    rows = {attrs["data-week"]: cells for attrs, cells in table(response, "statements")[1:]}
    assert len(rows) == 34  # 25 weeks back, this one, 8 ahead
    first = next(iter(rows))
    assert first == weeks.label(this_week + 8 * WEEK)  # newest first
    label = [weeks.label(this_week + k * WEEK) for k in range(-4, 3)]
    not_closed = "not closed"
    assert [rows[w] for w in label] == [
        [label[0], "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", not_closed],
        [label[1], "¥0.00", "¥5.00", "¥52.00", monthly, "¥0.00", "¥0.00", "¥0.00", not_closed],
        [label[2], "¥1.00", "¥7.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", not_closed],
        [label[3], "¥1.00", "¥7.00", "¥0.00", "¥0.00", "¥0.00", "¥5.20", "¥0.00", not_closed],
        [label[4], "¥0.90", "¥7.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", not_closed],
        [label[5], "¥0.90", f"¥{covered - 26}.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00",
         not_closed],
        [label[6], "¥0.90", "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", "¥0.00", not_closed],
    ]  # fmt: skip


def test_the_statements_page_draws_the_funds_and_budgets(
    organiser_client: Client, recent: dict[str, Any]
) -> None:
    this_week, covered = recent["this_week"], recent["covered"]

    response = organiser_client.get("/c/circle/ledger/weeks/")

    chart = response.context["chart"]
    assert [s.key for s in chart.series] == [
        "reward_fund",
        "operations_fund",
        "reward_budget",
        "operations_budget",
    ]
    assert {len(s.points.split()) for s in chart.series} == {34}
    # the funds and the budgets each on their own scale, labelled at round amounts
    assert [[t.label for t in panel.ticks] for panel in chart.panels] == [
        ["¥0", "¥20", "¥40", "¥60"],
        ["¥0", "¥2", "¥4", "¥6", "¥8"],
    ]
    assert (chart.first_week, chart.last_week) == (
        str(this_week - 25 * WEEK),
        str(this_week + 8 * WEEK),
    )
    page = response.content.decode()
    assert page.count("<polyline ") == 4
    for legend in (
        "Reward fund",
        "Operations fund",
        "Weekly reward budget",
        "Weekly operations budget",
    ):
        assert legend in page
    # the funds' balances at the end of each week, the budgets, week by week
    points = selectors.chart(
        community=response.context["community"],
        starts=[this_week + k * WEEK for k in (-4, -3, -1, 0)],
    )
    assert [
        (p.reward_fund, p.operations_fund, p.reward_budget, p.operations_budget) for p in points
    ] == [
        (0, 0, 0, 0),
        (5200, 100 * covered, 0, 500),
        (4680, 100 * covered, 100, 700),
        (4680, 100 * covered, 90, 700),
    ]


# --- Payments, the form and corrections ------------------------------------------------------


def test_the_payments_page_lists_payments_with_their_corrections(
    organiser_client: Client, books: dict[str, Transaction], member: Membership
) -> None:
    stripe_paid = bulk_payments(
        member.community,
        [(member, Payment.Kind.MONTHLY, 1000, RECEIVED + 100 * DAY)],
        method=Payment.Method.STRIPE,
    )[0]

    response = organiser_client.get("/c/circle/payments/")

    assert response.status_code == 200
    rows = table(response, "payments")[1:]
    assert [(int(attrs["data-payment"]), cells) for attrs, cells in rows] == [
        (stripe_paid.pk, ["2026-06-12 12:00", "plain", "Monthly fee", "Stripe", "¥10.00", ""]),
        (books["monthly"].payment_id, ["2026-05-06 09:30", "mod", "Monthly fee", "Bank transfer",
                                       "¥10.00", ""]),
        (books["entrance"].payment_id, ["2026-03-04 12:00", "plain", "Entrance fee",
                                        "Bank transfer", "¥200.00",
                                        "Correction of a mistaken record: ¥50.00 · "
                                        "typed 200 for 150"]),
    ]  # fmt: skip
    # offline payments may be corrected here; a Stripe one is refunded through Stripe
    page = response.content.decode()
    for payment_id in (books["monthly"].payment_id, books["entrance"].payment_id):
        assert f'action="/c/circle/payments/{payment_id}/reverse/"' in page
    assert f'action="/c/circle/payments/{stripe_paid.pk}/reverse/"' not in page


def test_the_form_lists_the_community_s_members_by_handle(
    organiser_client: Client, organiser: Membership, member: Membership, moderator: Membership
) -> None:
    gone = add_member(organiser.community, profile={"handle": "gone"})
    set_status(gone, Membership.Status.LEFT)
    add_member(make_community(slug="elsewhere"), profile={"handle": "outsider"})

    form = organiser_client.get("/c/circle/payments/new/").context["form"]

    assert list(form.fields["member"].choices) == sorted(
        [
            (str(moderator.pk), "mod"),
            (str(organiser.pk), organiser.profile.handle),
            (str(member.pk), "plain"),
        ],
        key=lambda choice: choice[1],
    )


def test_an_offline_payment_recorded_through_the_form_enters_the_ledger(
    organiser_client: Client, organiser: Membership, member: Membership
) -> None:
    # when: 200.00 in cash, typed in the community's time (Sunday night, the last hour of W10)
    response = organiser_client.post(
        "/c/circle/payments/new/",
        {
            "member": member.pk,
            "kind": "entrance",
            "amount": "200.00",
            "received_at": "2026-03-08 23:30",
            "method": "cash",
            "reference": "收据 17",
        },
    )

    # then: recorded, in minor units, at that local time
    assert (response.status_code, response["Location"]) == (302, "/c/circle/payments/")
    payment = Payment.objects.get()
    assert (payment.membership, payment.kind, payment.method, payment.amount) == (
        member,
        "entrance",
        "cash",
        20000,
    )
    assert (payment.reference, payment.recorded_by) == ("收据 17", organiser.user)
    assert payment.received_at == datetime.datetime(2026, 3, 8, 23, 30, tzinfo=SHANGHAI)
    posted = Transaction.objects.get()
    assert sorted((e.account.kind, e.amount) for e in posted.entries.all()) == [
        ("offline_cash", 20000),
        ("reward_fund", -20000),
    ]
    # its 52 shares start the week after the one it was received in
    shares = schedules.reward_shares(community=member.community)
    assert min(shares) == datetime.date(2026, 3, 9)
    follow = organiser_client.get(response["Location"])
    assert messages_of(follow) == ["Payment recorded."]
    assert [cells[:5] for _a, cells in table(follow, "payments")[1:]] == [
        ["2026-03-08 23:30", "plain", "Entrance fee", "Cash", "¥200.00"]
    ]


def test_an_amount_with_a_thousands_separator_is_read(
    organiser_client: Client, member: Membership
) -> None:
    response = organiser_client.post(
        "/c/circle/payments/new/",
        {
            "member": member.pk,
            "kind": "monthly",
            "amount": "1,000.50",
            "received_at": "2026-03-08 10:00",
            "method": "bank_transfer",
        },
    )
    assert response.status_code == 302
    assert Payment.objects.get().amount == 100050


FORM_ERRORS = [
    ({"amount": "abc"}, "amount"),
    ({"amount": ""}, "amount"),
    ({"amount": "-5.00"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": "200.001"}, "amount"),
    ({"amount": "10000000.01"}, "amount"),
    ({"amount": "1e30"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"received_at": ""}, "received_at"),
    ({"received_at": "TOMORROW"}, "received_at"),
    ({"received_at": "2015-03-04 10:00"}, "received_at"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"member": "999999"}, "member"),
    ({"member": "GONE"}, "member"),
    ({"member": "ELSEWHERE"}, "member"),
    ({"member": ""}, "member"),
    ({"kind": "tip"}, "kind"),
    ({"method": "stripe"}, "method"),
    ({"reference": "x" * 201}, "reference"),
]


@pytest.mark.parametrize(
    ("changes", "field"), FORM_ERRORS, ids=[str(c)[:40] for c, _f in FORM_ERRORS]
)
def test_bad_form_input_is_shown_as_form_errors_and_writes_nothing(
    organiser_client: Client, member: Membership, changes: dict[str, str], field: str
) -> None:
    # given
    gone = add_member(member.community, profile={"handle": "gone"})
    set_status(gone, Membership.Status.LEFT)
    elsewhere = add_member(make_community(slug="elsewhere"), profile={"handle": "outsider"})
    data = {
        "member": str(member.pk),
        "kind": "entrance",
        "amount": "200.00",
        "received_at": "2026-03-04 12:00",
        "method": "bank_transfer",
        "reference": "",
    } | changes
    tomorrow = timezone.localtime(timezone.now() + DAY, SHANGHAI)
    substitutes = {
        "TOMORROW": f"{tomorrow:%Y-%m-%d %H:%M}",
        "GONE": str(gone.pk),
        "ELSEWHERE": str(elsewhere.pk),
    }
    data = {k: substitutes.get(v, v) for k, v in data.items()}
    before = row_counts()

    # when
    response = organiser_client.post("/c/circle/payments/new/", data)

    # then: the form again, with the error on that field, and nothing written
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert 'class="errorlist' in response.content.decode()
    assert row_counts() == before


def test_a_correction_through_the_payments_page(
    organiser_client: Client, organiser: Membership, member: Membership
) -> None:
    payment = pay(member)
    url = f"/c/circle/payments/{payment.pk}/reverse/"

    # when: 50.00 of it, then the rest
    first = organiser_client.post(url, {"amount": "50.00", "note": "typed 200 for 150"})
    second = organiser_client.post(url, {"amount": "", "note": "recorded twice"}, follow=True)

    # then: two corrections with reversing entries; the payment is still there
    assert (first.status_code, first["Location"]) == (302, "/c/circle/payments/")
    assert messages_of(second) == [
        "Reversed; the reversing entries are in the ledger.",
        "Reversed; the reversing entries are in the ledger.",
    ]
    assert list(
        Refund.objects.order_by("pk").values_list("reason", "amount", "note", "recorded_by")
    ) == [
        ("correction", 5000, "typed 200 for 150", organiser.user.pk),
        ("correction", 15000, "recorded twice", organiser.user.pk),
    ]
    assert Payment.objects.get().amount == 20000
    assert {a.kind: b for a, b in ledger.balances(community=member.community)} == {
        "offline_cash": 0,
        "reward_fund": 0,
    }
    rows = table(second, "payments")[1:]
    assert rows[0][1][5] == (
        "Correction of a mistaken record: ¥50.00 · typed 200 for 150 "
        "Correction of a mistaken record: ¥150.00 · recorded twice"
    )

    # when: more is asked back than is left
    before = row_counts()
    response = organiser_client.post(url, {"amount": "0.01", "note": "again"}, follow=True)
    # then: an error, nothing written
    [message] = messages_of(response)
    assert message.startswith("At most ")
    assert message.endswith(" can still go back.")
    assert row_counts() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "50.00"}, "This field is required."),  # why
        ({"amount": "50.001", "note": "x"}, "CNY amounts have at most 2 decimal places."),
        ({"amount": "abc", "note": "x"}, "Enter an amount such as 200.00."),
        ({"amount": "-1.00", "note": "x"}, "The amount must be more than zero."),
    ],
)
def test_a_bad_correction_is_refused_with_a_message(
    organiser_client: Client, member: Membership, data: dict[str, str], message: str
) -> None:
    payment = pay(member)
    before = row_counts()
    response = organiser_client.post(f"/c/circle/payments/{payment.pk}/reverse/", data, follow=True)
    assert messages_of(response) == [message]
    assert row_counts() == before


def test_asking_back_more_than_was_paid_says_how_much_is_left_in_money(
    organiser_client: Client, member: Membership
) -> None:
    payment = pay(member)
    before = row_counts()
    response = organiser_client.post(
        f"/c/circle/payments/{payment.pk}/reverse/", {"amount": "200.01", "note": "x"}, follow=True
    )
    assert row_counts() == before
    assert messages_of(response) == ["At most ¥200.00 can still go back."]


def test_corrections_are_posted_not_fetched_and_only_for_this_community(
    organiser_client: Client, member: Membership
) -> None:
    theirs = pay(add_member(make_community(slug="elsewhere"), profile={"handle": "outsider"}))
    mine = pay(member)
    before = row_counts()
    assert organiser_client.get(f"/c/circle/payments/{mine.pk}/reverse/").status_code == 405
    response = organiser_client.post(
        f"/c/circle/payments/{theirs.pk}/reverse/", {"amount": "", "note": "x"}
    )
    assert response.status_code == 404
    assert row_counts() == before


# --- The export -----------------------------------------------------------------------------


def test_the_csv_export_reconciles_to_the_balances_on_the_ledger_page(
    organiser_client: Client, books: dict[str, Transaction]
) -> None:
    response = organiser_client.get("/c/circle/ledger/export.csv")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="circle-ledger.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == exports.COLUMNS
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["account"]] += int(row["amount"])
    page = organiser_client.get("/c/circle/ledger/")
    shown = {
        attrs["data-account"]: cells[1]
        for attrs, cells in table(page, "balances")
        if "data-account" in attrs
    }
    from members.currency import format_amount

    assert {k: format_amount(v, "CNY") for k, v in totals.items()} == shown
    assert sum(totals.values()) == 0


# --- The members' fund page -----------------------------------------------------------------


def test_the_fund_page_shows_a_member_the_weeks_budgets_and_their_own_money(
    client: Client, member: Membership, moderator: Membership, recent: dict[str, Any]
) -> None:
    this_week = recent["this_week"]
    bulk_prizes(member.community, [(member, 1500, timezone.now() - DAY)])
    client.force_login(member.user)

    response = client.get("/c/circle/fund/")

    assert response.status_code == 200
    budgets = {attrs["data-week"]: cells for attrs, cells in table(response, "weekly-budgets")[1:]}
    assert list(budgets) == [weeks.label(this_week + k * WEEK) for k in range(4, -8, -1)]
    assert budgets[weeks.label(this_week)] == [weeks.label(this_week), "¥0.90", "¥7.00"]
    assert budgets[weeks.label(this_week - 2 * WEEK)] == [
        weeks.label(this_week - 2 * WEEK),
        "¥1.00",
        "¥7.00",
    ]
    page = text(response)
    assert "Entrance fee · ¥52.00 (Correction of a mistaken record ¥5.20)" in page
    assert "Week closed · ¥15.00" in page
    assert 'id="my-balance">¥15.00<' in response.content.decode()
    # the moderator's monthly fee is theirs alone
    assert "Monthly fee" not in page
    assert f"¥{recent['covered']}.00" not in page


def test_an_organiser_s_own_fund_page_needs_no_second_factor(
    client: Client, organiser: Membership
) -> None:
    client.force_login(organiser.user)
    assert client.get("/c/circle/fund/").status_code == 200


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        (Membership.Role.MEMBER, Membership.Status.LAPSED, 200),
        (Membership.Role.MEMBER, Membership.Status.PENDING, 403),
        (Membership.Role.CANDIDATE, Membership.Status.ACTIVE, 403),
    ],
)
def test_who_sees_the_fund_page(
    client: Client, community: Community, role: str, status: str, expected: int
) -> None:
    someone = add_member(community, profile={"handle": "someone"})
    set_status(someone, status, role)
    client.force_login(someone.user)
    assert client.get("/c/circle/fund/").status_code == expected


# --- Who may open the organiser's pages -----------------------------------------------------


def assert_two_factor_page(client: Client) -> None:
    before = row_counts()
    for url in ORGANISER_PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert next(t.name for t in response.templates) == "rewards/mfa_required.html"
        page = response.content.decode()
        assert "<h1>Two-factor authentication needed</h1>" in page
        assert 'href="/accounts/2fa/"' in page
    for url, data in (
        ("/c/circle/payments/new/", {"member": "1", "kind": "entrance", "amount": "200.00"}),
        (f"/c/circle/payments/{Payment.objects.get().pk}/reverse/", {"note": "x"}),
    ):
        assert client.post(url, data).status_code == 403
    assert row_counts() == before


def test_an_organiser_without_two_factor_authentication_sees_how_to_get_it(
    client: Client, organiser: Membership, member: Membership
) -> None:
    pay(member)
    client.force_login(organiser.user)
    assert_two_factor_page(client)


def test_an_organiser_with_totp_signed_in_by_password_alone_is_asked_for_the_code(
    client: Client, organiser: Membership, member: Membership
) -> None:
    pay(member)
    totp_activate(organiser.user)
    client.force_login(organiser.user)
    assert_two_factor_page(client)


def test_signing_in_with_password_and_code_opens_the_money_pages(
    client: Client, organiser: Membership, member: Membership
) -> None:
    # given: an organiser with an authenticator app
    pay(member)
    secret = totp_activate(organiser.user)

    # when: they sign in with the password, then the code (allauth's two steps)
    response = client.post(
        "/accounts/login/", {"login": organiser.user.email, "password": PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, "/accounts/2fa/authenticate/")
    assert client.get("/c/circle/ledger/").status_code == 302  # not signed in yet
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302

    # then: every money page opens
    for url in ORGANISER_PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.MODERATOR])
def test_members_and_moderators_may_not_open_the_organiser_s_pages(
    client: Client, community: Community, role: str
) -> None:
    someone = add_member(community, role=role, profile={"handle": "someone"})
    payment = pay(someone)
    mfa_sign_in(client, someone.user)  # a second factor does not make one an organiser
    before = row_counts()
    for url in ORGANISER_PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "rewards/mfa_required.html" not in [t.name for t in response.templates]
    assert (
        client.post(f"/c/circle/payments/{payment.pk}/reverse/", {"note": "x"}).status_code == 403
    )
    assert row_counts() == before


def test_another_community_s_organiser_may_not_open_them(
    client: Client, community: Community
) -> None:
    stranger = organiser_of(make_community(slug="elsewhere"))
    mfa_sign_in(client, stranger.user)
    for url in ORGANISER_PAGES:
        assert client.get(url).status_code == 403, url
    assert client.get("/c/nowhere/ledger/").status_code == 404


def test_visitors_are_sent_to_sign_in(client: Client, community: Community) -> None:
    for url in [*ORGANISER_PAGES, "/c/circle/fund/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
