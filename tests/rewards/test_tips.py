"""Tips: a member tips an answer's author through Stripe Checkout; the author's payable
balance grows by the tip less the community's platform fee. The entries, the split, the page,
the API, the button on the answer, and who may tip whom (both ways)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members import weeks
from members.models import Community, Membership
from questions.models import Answer
from rewards import ledger
from rewards.models import CheckoutSession, Entry, Payment, Refund, Transaction
from rewards.tips import tip_record, tip_split
from tests.factories import add_member, bulk_questions, make_community, set_status
from tests.rewards import fake_stripe as fs
from tests.rewards.fake_stripe import FakeStripe, deliver

pytestmark = pytest.mark.django_db

Status = Membership.Status


@dataclass
class Thread:
    community: Community
    author: Membership
    tipper: Membership
    answer: Answer

    @property
    def tip_url(self) -> str:
        return f"/c/{self.community.slug}/answers/{self.answer.pk}/tip/"


@pytest.fixture
def thread(community: Community) -> Thread:
    """A question of this week with one answer, by ``author``; ``tipper`` asked it."""
    tipper = add_member(community, profile={"handle": "tipper"})
    author = add_member(community, profile={"handle": "author"})
    [question] = bulk_questions(
        community, [tipper, author], 1, week=weeks.start_of(community), answers=1
    )
    answer = Answer.objects.get(question=question)
    assert answer.author_id == author.pk
    return Thread(community, author, tipper, answer)


def _entries(payment: Payment) -> list[tuple[str, str | None, int]]:
    return sorted(
        (e.account.kind, e.account.membership.profile.handle if e.account.membership else None,
         e.amount)
        for e in Entry.objects.filter(transaction__payment=payment).select_related(
            "account__membership__profile"
        )
    )  # fmt: skip


def _yesterday() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("amount", "percent", "split"),
    [(500, 0, (500, 0)), (1001, 10, (901, 100)), (999, 100, (0, 999)), (1, 50, (1, 0)),
     (333, 15, (283, 50))],
)  # fmt: skip
def test_the_split_sums_to_the_tip_by_the_largest_remainder(
    amount: int, percent: int, split: tuple[int, int]
) -> None:
    assert tip_split(amount, percent) == split
    assert sum(split) == amount


def test_a_tip_credits_the_author_in_full_by_default(thread: Thread) -> None:
    payment = tip_record(
        tipper=thread.tipper, answer=thread.answer, amount=500, received_at=_yesterday(),
        stripe_id="cs_tip_1", reference="pi_tip_1",
    )  # fmt: skip
    assert (payment.kind, payment.method, payment.amount, payment.platform_fee) == (
        "tip", "stripe", 500, 0,
    )  # fmt: skip
    assert (payment.membership, payment.recipient, payment.answer) == (
        thread.tipper, thread.author, thread.answer,
    )  # fmt: skip
    assert _entries(payment) == [("member_payable", "author", -500), ("provider_cash", None, 500)]
    assert Transaction.objects.get(payment=payment).kind == "tip"
    assert ledger.member_balance(membership=thread.author) == 500
    assert ledger.member_balance(membership=thread.tipper) == 0
    assert ledger.trial_balance(community=thread.community) == 0


def test_a_platform_fee_is_split_off_exactly(thread: Thread) -> None:
    Community.objects.filter(pk=thread.community.pk).update(tip_fee_percent=10)
    thread.tipper.community.refresh_from_db()
    before = ledger.member_balance(membership=thread.author)
    payment = tip_record(
        tipper=thread.tipper, answer=thread.answer, amount=1001, received_at=_yesterday(),
        stripe_id="cs_tip_2",
    )  # fmt: skip
    assert payment.platform_fee == 100
    assert _entries(payment) == [
        ("member_payable", "author", -901), ("platform_fees", None, -100),
        ("provider_cash", None, 1001),
    ]  # fmt: skip
    assert ledger.member_balance(membership=thread.author) - before == 1001 - 100


def test_recording_a_tip_twice_posts_once(thread: Thread) -> None:
    kwargs: dict[str, Any] = {
        "tipper": thread.tipper, "answer": thread.answer, "amount": 500,
        "received_at": _yesterday(), "stripe_id": "cs_tip_3",
    }  # fmt: skip
    first, second = tip_record(**kwargs), tip_record(**kwargs)
    assert first == second
    assert (Payment.objects.count(), Transaction.objects.count()) == (1, 1)


@pytest.mark.parametrize("case", ["own answer", "other community", "bad amount", "no stripe id"])
def test_tip_record_refuses_and_writes_nothing(thread: Thread, case: str) -> None:
    kwargs: dict[str, Any] = {
        "tipper": thread.tipper, "answer": thread.answer, "amount": 500,
        "received_at": _yesterday(), "stripe_id": "cs_tip_4",
    }  # fmt: skip
    if case == "own answer":
        kwargs["tipper"] = thread.author
    elif case == "other community":
        kwargs["tipper"] = add_member(make_community(slug="elsewhere"))
    elif case == "bad amount":
        kwargs["amount"] = 5.0
    else:
        kwargs["stripe_id"] = ""
    with pytest.raises(ValidationError):
        tip_record(**kwargs)
    assert not Payment.objects.exists()
    assert not Transaction.objects.exists()


def test_a_member_tips_through_checkout_and_the_author_is_credited_on_the_webhook(
    fake_stripe: FakeStripe, thread: Thread, client: Client,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:  # fmt: skip
    Community.objects.filter(pk=thread.community.pk).update(tip_fee_percent=5)
    client.force_login(thread.tipper.user)

    # the button is on the author's answer
    detail = client.get(thread.answer.get_absolute_url(), follow=True).content.decode()
    assert f'href="{thread.tip_url}"' in detail

    page = client.get(thread.tip_url)
    assert page.status_code == 200
    assert "keeps 5% as a platform fee" in page.content.decode()
    assert fake_stripe.base_url in page.headers["Content-Security-Policy"]

    response = client.post(thread.tip_url, {"amount": "12.34"})
    assert response.status_code == 303
    row = CheckoutSession.objects.get()
    assert (row.kind, row.tip_amount, row.answer_id, row.membership_id) == (
        "tip", 1234, thread.answer.pk, thread.tipper.pk,
    )  # fmt: skip
    assert response.headers["Location"] == row.url
    [call] = fake_stripe.created()
    assert call.idempotency_key == f"checkout:{row.pk}"
    p = call.params
    assert (p["mode"], p["line_items[0][price_data][unit_amount]"]) == ("payment", "1234")
    assert p["line_items[0][price_data][product_data][name]"] == "Tip for an answer · Circle"
    assert p["payment_intent_data[metadata][checkout]"] == str(row.pk)
    assert not Payment.objects.exists()  # nothing until Stripe says so

    session = fake_stripe.pay(row.stripe_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, fs.session_completed(session)).status_code == 200
    payment = Payment.objects.get()
    fee = 62  # 5 % of 12.34 is 0.617: the odd fen by the largest remainder
    assert (payment.kind, payment.amount, payment.platform_fee, payment.stripe_id) == (
        "tip", 1234, fee, session["id"],
    )  # fmt: skip
    assert payment.reference == session["payment_intent"]
    assert ledger.member_balance(membership=thread.author) == 1234 - fee
    done = client.get(f"/c/circle/checkout/{row.pk}/done/").content.decode()
    assert "Your tip of ¥12.34 to author is confirmed." in done

    # a partial refund takes back the author's part and the fee in proportion
    fake_stripe.refunds_of["ch_tip"] = [fs.refund("re_tip", 617, fs.now() - 60)]
    refunded = fs.charge(charge_id="ch_tip", payment_intent=session["payment_intent"], amount=1234)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fs.event("charge.refunded", refunded))
    refund = Refund.objects.get()
    lines = sorted(
        (e.account.kind, e.amount) for e in Entry.objects.filter(transaction__refund=refund)
    )
    assert lines == [("member_payable", 586), ("platform_fees", 31), ("provider_cash", -617)]
    assert ledger.member_balance(membership=thread.author) == 1234 - fee - 586


def test_the_api_starts_a_tip(fake_stripe: FakeStripe, thread: Thread, api: APIClient) -> None:
    api.force_authenticate(thread.tipper.user)
    url = f"/api/v1/answers/{thread.answer.pk}/tips/"
    for bad in ("5.00", 5.5, 0, -100, None, True):
        response = api.post(url, {"amount": bad}, format="json")
        assert (response.status_code, list(response.json())) == (400, ["amount"]), bad
    unknown = api.post(url, {"amount": 500, "note": "thanks"}, format="json")
    assert (unknown.status_code, list(unknown.json())) == (400, ["note"])
    assert not CheckoutSession.objects.exists()
    response = api.post(url, {"amount": 500}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["kind"], data["tip_amount"], data["answer"], data["status"]) == (
        "tip", 500, thread.answer.pk, "open",
    )  # fmt: skip
    assert data["url"].startswith(f"{fake_stripe.base_url}/pay/")


def test_who_may_tip(
    fake_stripe: FakeStripe, thread: Thread, client: Client, api: APIClient
) -> None:
    api_url = f"/api/v1/answers/{thread.answer.pk}/tips/"
    # a visitor is asked to sign in
    assert client.get(thread.tip_url).headers["Location"].startswith("/accounts/login/")
    # the author may not tip their own answer, and sees no button on it
    client.force_login(thread.author.user)
    assert client.get(thread.tip_url).status_code == 403
    assert client.post(thread.tip_url, {"amount": "5"}).status_code == 403
    detail = client.get(thread.answer.get_absolute_url(), follow=True).content.decode()
    assert thread.tip_url not in detail
    api.force_authenticate(thread.author.user)
    own = api.post(api_url, {"amount": 500}, format="json")
    assert (own.status_code, list(own.json())) == (400, ["answer"])
    # a lapsed member reads but may not tip; a candidate and an outsider cannot see it
    lapsed = set_status(add_member(thread.community), Status.LAPSED)
    candidate = set_status(add_member(thread.community), Status.ACTIVE, role="candidate")
    outsider = add_member(make_community(slug="elsewhere"))
    for person in (lapsed, candidate, outsider):
        client.force_login(person.user)
        assert client.get(thread.tip_url).status_code == 403, person
        assert client.post(thread.tip_url, {"amount": "5"}).status_code == 403, person
        api.force_authenticate(person.user)
        assert api.post(api_url, {"amount": 500}, format="json").status_code == 403, person
    # the answer under another community's address is not found
    client.force_login(outsider.user)
    assert client.get(f"/c/elsewhere/answers/{thread.answer.pk}/tip/").status_code == 404
    assert not CheckoutSession.objects.exists()
    assert not fake_stripe.created()


@pytest.mark.parametrize("amount", ["", "abc", "0", "-5", "5.001", "999999999"])
def test_a_bad_amount_is_a_form_error(
    fake_stripe: FakeStripe, thread: Thread, client: Client, amount: str
) -> None:
    client.force_login(thread.tipper.user)
    response = client.post(thread.tip_url, {"amount": amount})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"amount"}
    assert not CheckoutSession.objects.exists()


def test_in_the_growth_phase_no_money_surface_shows_a_member_s_hidden_fields(
    fake_stripe: FakeStripe,
    client: Client,
    api: APIClient,
    community: Community,
    organiser: Membership,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from members import services as member_services
    from tests.html import without_csrf_tokens

    hidden = {"real_name": "Secretname 秘名氏", "company": "Hiddenco 隐藏公司"}
    tipper = add_member(community, profile={"handle": "tipper"})
    author = add_member(community, profile={"handle": "author", **hidden})
    [question] = bulk_questions(
        community, [tipper, author], 1, week=weeks.start_of(community), answers=1
    )
    answer = Answer.objects.get(question=question)
    member_services.community_enter_growth(actor=organiser, community=community)
    # the author has paid and has been tipped, so they are on every money list
    tip_record(tipper=tipper, answer=answer, amount=700, received_at=_yesterday(), stripe_id="cs_x")
    client.force_login(tipper.user)
    api.force_authenticate(tipper.user)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/c/circle/answers/{answer.pk}/tip/", {"amount": "5.00"})
    assert started.status_code == 303
    row = CheckoutSession.objects.get()
    seen = [
        client.get(f"/c/circle/answers/{answer.pk}/tip/"),
        client.get("/c/circle/fund/"),
        client.get(f"/c/circle/checkout/{row.pk}/done/"),
        api.get(f"/api/v1/checkouts/{row.pk}/"),
        api.get(f"/api/v1/communities/circle/weeks/{weeks.label(weeks.start_of(community))}/"),
        api.post(f"/api/v1/answers/{answer.pk}/tips/", {"amount": 0}, format="json"),
    ]
    assert [r.status_code for r in seen] == [200, 200, 200, 200, 200, 400]
    texts = [without_csrf_tokens(r.content) for r in seen]
    # what Stripe is sent (and shows the payer) names no one either
    texts += [str(r.params) for r in fake_stripe.requests]
    for value in hidden.values():
        for word in value.split():
            assert not [t for t in texts if word in t], word
    # the author is named on the tip page — by their handle
    assert "Tip author" in texts[0]
