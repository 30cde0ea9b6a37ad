"""An organiser records an offline payment through the contract's POST; the ledger, the
balances, the week's budgets and the pages show it."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members import weeks
from tests.factories import add_member, make_community, mfa_token, organiser_of

pytestmark = pytest.mark.django_db


def test_offline_payment_end_to_end(api: APIClient, client: Client) -> None:
    community = make_community(slug="money")
    organiser = organiser_of(community)
    member = add_member(community, profile={"handle": "payer"})
    token = mfa_token(api, organiser.user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    received = timezone.now() - datetime.timedelta(days=1)
    response = api.post(
        "/api/v1/communities/money/payments/",
        {"member": member.pk, "kind": "entrance", "amount": 20000,
         "received_at": received.isoformat()},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    balances = api.get("/api/v1/communities/money/ledger/balances/").json()
    assert sorted((b["account"], b["balance"]) for b in balances) == [
        ("offline_cash", 20000),
        ("reward_fund", -20000),
    ]
    ledger = api.get("/api/v1/communities/money/ledger/").json()
    assert ledger["count"] == 1
    assert sorted(e["amount"] for e in ledger["results"][0]["entries"]) == [-20000, 20000]
    next_week = weeks.label(weeks.start_of(community, received) + datetime.timedelta(days=7))
    api.credentials()
    api.force_authenticate(member.user)
    week = api.get(f"/api/v1/communities/money/weeks/{next_week}/").json()
    assert (week["reward_budget"], week["operations_budget"]) == (385, 0)
    # a decimal string is not minor units
    api.force_authenticate(None)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    bad = api.post(
        "/api/v1/communities/money/payments/",
        {"member": member.pk, "kind": "entrance", "amount": "200.00",
         "received_at": received.isoformat()},
    )  # fmt: skip
    assert (bad.status_code, list(bad.json())) == (400, ["amount"])
    client.force_login(member.user)
    assert client.get("/c/money/fund/").status_code == 200
    assert client.get("/c/money/ledger/").status_code == 403
