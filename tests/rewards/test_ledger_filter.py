"""The ledger filtered by a member's handle or name (issue 12), and the reward fund shown to
members as a positive amount while the ledger keeps its accounting signs."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import Community, Membership
from rewards import ledger, selectors
from rewards.models import Account, Transaction
from tests.factories import add_member, make_community, mfa_sign_in

from .test_pages import table


@pytest.fixture
def organiser_client(client: Client, organiser: Membership) -> Client:
    mfa_sign_in(client, organiser.user)
    return client


@pytest.fixture
def named(member: Membership, moderator: Membership) -> dict[str, Membership]:
    """Real names on the two members of the books ("plain" paid, "mod" won a prize), and two
    more members whose handles share a part ("mod" is also in "model-maker")."""
    community = member.community
    member.profile.real_name = "Wang Fang"
    member.profile.save(update_fields=["real_name"])
    moderator.profile.real_name = "Li Lei"
    moderator.profile.save(update_fields=["real_name"])
    return {
        "plain": member,
        "mod": moderator,
        "model": add_member(community, profile={"handle": "model-maker", "real_name": "Li Na"}),
        "maker": add_member(community, profile={"handle": "Maker-2", "real_name": "Li Lei"}),
    }


def _ids(response: Any) -> list[int]:
    rows = table(response, "transactions")[1:]
    return [int(attrs["data-id"]) for attrs, _cells in rows if "data-id" in attrs]


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("plain", "plain"),  # the handle
        ("PLAIN", "plain"),  # in any case
        ("  plain ", "plain"),  # spaces around
        ("Wang Fang", "plain"),  # the real name, which an organiser may see
        ("wang   fang", "plain"),
        ("MEMBER_ID", "plain"),  # an id, as the filter's links had it
        ("mod", "mod"),  # a whole handle wins over a part of another's
        ("Wang", "plain"),  # a part that only one member matches
        ("model", "model"),
    ],
)
def test_the_ledger_filters_by_a_member_s_handle_or_name(
    organiser_client: Client,
    books: dict[str, Transaction],
    named: dict[str, Membership],
    typed: str,
    who: str,
) -> None:
    typed = typed.replace("MEMBER_ID", str(named["plain"].pk))

    response = organiser_client.get("/c/circle/ledger/", {"member": typed})

    assert response.status_code == 200
    assert response.context["form"].errors == {}
    expected = {
        "plain": [books["correction"].pk, books["entrance"].pk],
        "mod": [books["prize"].pk, books["monthly"].pk],
        "model": [],
    }[who]
    assert _ids(response) == expected
    # what was typed stays in the field
    assert f'value="{typed}"' in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("nobody-here", "No member of this community has the handle or name “nobody-here”."),
        ("Li Lei", "Several members match “Li Lei”: type the whole handle."),  # two real names
        ("Li", "Several members match “Li”: type the whole handle."),
        ("ma", "Several members match “ma”: type the whole handle."),
        ("999999", "No member of this community has the handle or name “999999”."),
        ("outsider", "No member of this community has the handle or name “outsider”."),
        ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("²", "No member of this community has the handle or name “²”."),
        ("9" * 30, f"No member of this community has the handle or name “{'9' * 30}”."),
        ("pla\x00in", "Null characters are not allowed."),
    ],
)
def test_an_unknown_or_ambiguous_member_is_a_message_next_to_the_field(
    organiser_client: Client,
    books: dict[str, Transaction],
    named: dict[str, Membership],
    typed: str,
    message: str,
) -> None:
    add_member(make_community(slug="elsewhere"), profile={"handle": "outsider"})

    response = organiser_client.get("/c/circle/ledger/", {"member": typed, "kind": "payment"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"member": [message]}
    assert response.context["page"] is None
    assert table(response, "transactions") == []
    assert len(table(response, "balances")) == 6  # the balances are still there
    assert response.context["form"]["member"].value() == typed  # kept in the field


def test_a_viewer_who_may_not_see_real_names_cannot_find_a_member_by_one(
    named: dict[str, Membership],
) -> None:
    # given: a growth-phase community, where members see handles only (members.privacy)
    community = named["plain"].community
    Community.objects.filter(pk=community.pk).update(phase=Community.Phase.GROWTH)
    community.refresh_from_db()
    viewer = named["model"]

    # then: a handle finds them, the real name does not, not even in part
    found = selectors.ledger_member(viewer=viewer, community=community, text="plain")
    assert found == named["plain"]
    for typed in ("Wang Fang", "Wang"):
        with pytest.raises(ValidationError) as caught:
            selectors.ledger_member(viewer=viewer, community=community, text=typed)
        assert caught.value.message_dict == {
            "member": [f"No member of this community has the handle or name “{typed}”."]
        }


def test_the_member_fund_page_shows_the_reward_fund_as_a_positive_amount(
    client: Client, books: dict[str, Transaction], member: Membership
) -> None:
    # given: the reward fund's ledger balance is a credit (negative)
    community = member.community
    signed = {a.kind: b for a, b in ledger.balances(community=community)}
    assert signed[Account.Kind.REWARD_FUND] < 0
    client.force_login(member.user)

    response = client.get("/c/circle/fund/")

    # then: the member sees it as what the fund holds, positive
    assert response.status_code == 200
    held = -signed[Account.Kind.REWARD_FUND]
    assert response.context["reward_fund"] == held == 12000  # 150.00 paid in, 30.00 won
    assert 'id="reward-fund">¥120.00<' in response.content.decode()


def test_the_organiser_s_ledger_keeps_accounting_signs(
    organiser_client: Client, books: dict[str, Transaction]
) -> None:
    response = organiser_client.get("/c/circle/ledger/")

    rows = {
        attrs["data-account"]: cells
        for attrs, cells in table(response, "balances")
        if "data-account" in attrs
    }
    assert rows["reward_fund"][1] == "-¥120.00"


def test_filtering_by_handle_or_name_costs_no_more_queries_than_by_id(
    organiser_client: Client, books: dict[str, Transaction], named: dict[str, Membership]
) -> None:
    counts = {}
    for typed in (str(named["plain"].pk), "plain", "Wang Fang"):
        with CaptureQueriesContext(connection) as queries:
            response = organiser_client.get("/c/circle/ledger/", {"member": typed})
        assert _ids(response) == [books["correction"].pk, books["entrance"].pk]
        counts[typed] = len(queries)
    assert len(set(counts.values())) == 1, counts
