"""A visitor joins a community in the browser, against the fake Stripe: the landing page, sign
up (confirming the e-mail address through the link that arrives, then signing in), the join
page, Stripe's (fake) payment page, back to our "thank you" page — which waits — then
Stripe's signed webhook arrives and the page welcomes a member.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from members.models import Membership
from rewards.models import CheckoutSession, Payment, StripeEvent
from tests.factories import add_member, make_community
from tests.rewards import fake_stripe as fs
from tests.rewards.fake_stripe import FakeStripe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    with fs.serve(settings) as fake:
        yield fake


EMAIL = "newcomer@example.com"
PASSWORD = "a-long-newcomer-password-7"


def test_a_visitor_signs_up_pays_on_stripe_and_becomes_a_member(
    page: Page,
    live_server: Any,
    fake_stripe: FakeStripe,
    mailoutbox: list[Any],
    artifacts: Path,
) -> None:
    base = str(live_server)
    community = make_community(
        slug="reading-circle", name="读书会 Reading Circle", entrance_fee=20000, monthly_fee=1000
    )
    add_member(community, profile={"handle": "old-hand"})
    slug = community.slug

    # --- the landing page ------------------------------------------------------------------
    page.goto(f"{base}/c/{slug}/")
    expect(page.get_by_role("heading", name="读书会 Reading Circle")).to_be_visible()
    page.screenshot(path=artifacts / "j01-landing.png", full_page=True)
    page.get_by_role("link", name="Sign up to join").click()

    # --- sign up, and confirm the address from the e-mail -------------------------------------
    expect(page).to_have_url(re.compile(r"/accounts/signup/\?next=/c/reading-circle/join/"))
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.screenshot(path=artifacts / "j02-signup.png", full_page=True)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    [mail] = mailoutbox
    assert mail.to == [EMAIL]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.body)
    assert link is not None, mail.body
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("ul.messages li")).to_have_text(f"You have confirmed {EMAIL}.")
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    page.goto(f"{base}/c/{slug}/")
    page.get_by_role("link", name="Join and pay online").click()

    # --- the join page: what it costs today ---------------------------------------------------
    expect(page).to_have_url(f"{base}/c/{slug}/join/")
    expect(page.locator("#join-entrance")).to_have_text("¥200.00")
    expect(page.locator("#join-monthly")).to_have_text("¥10.00 a month")
    expect(page.locator("#join-today")).to_have_text("¥210.00")
    page.screenshot(path=artifacts / "j03-join.png", full_page=True)
    page.get_by_role("button", name="Continue to payment").click()

    # --- Stripe's payment page (the fake) -----------------------------------------------------
    expect(page.get_by_role("heading", name="Fake Stripe Checkout")).to_be_visible()
    expect(page.locator("#amount")).to_have_text("210.00 CNY")
    row = CheckoutSession.objects.get()
    assert page.url == f"{fake_stripe.base_url}/pay/{row.stripe_session_id}"
    [call] = fake_stripe.created()
    assert call.idempotency_key == f"checkout:{row.pk}"
    assert (call.params["line_items[0][price_data][unit_amount]"], call.params["mode"]) == (
        "20000",
        "subscription",
    )
    page.screenshot(path=artifacts / "j04-stripe-checkout.png", full_page=True)
    page.get_by_role("button", name="Pay").click()

    # --- back on our page: it waits for Stripe's word, not the redirect -----------------------
    expect(page).to_have_url(f"{base}/c/{slug}/checkout/{row.pk}/done/")
    expect(page.locator("#checkout-status")).to_contain_text("waiting for Stripe")
    membership = Membership.objects.get(user__email=EMAIL, community=community)
    assert membership.status == Membership.Status.PENDING
    page.screenshot(path=artifacts / "j05-waiting.png", full_page=True)

    # --- Stripe's signed webhook arrives --------------------------------------------------
    event = fs.session_completed(fake_stripe.sessions[row.stripe_session_id])
    payload = json.dumps(event)
    response = requests.post(
        f"{base}/payments/stripe/webhook/",
        data=payload.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": fs.signed(payload)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED

    # --- the page (it looks again by itself) welcomes a member --------------------------------
    expect(page.locator("#checkout-status")).to_contain_text(
        "Your payment is confirmed: welcome to 读书会 Reading Circle!", timeout=15_000
    )
    page.screenshot(path=artifacts / "j06-welcome.png", full_page=True)
    membership.refresh_from_db()
    assert (membership.status, membership.role) == ("active", "member")
    entrance = Payment.objects.get(membership=membership)
    assert (entrance.kind, entrance.amount, entrance.stripe_id) == (
        "entrance",
        20000,
        row.stripe_session_id,
    )

    # and the community is open to them
    page.get_by_role("link", name="This week's session").click()
    expect(page).to_have_url(re.compile(rf"/c/{slug}/week/"))
    page.screenshot(path=artifacts / "j07-member.png", full_page=True)
