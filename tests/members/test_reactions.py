"""members' changes reach the apps on its right through members.reactions, wired by the
composition root (community/apps.py) at start-up — explicit calls, not signals or polling."""

from __future__ import annotations

import pytest

from members import reactions as reactions_module
from members import services
from members.models import Membership
from members.reactions import reactions
from rewards import ledger, subscriptions
from tests.factories import add_member, make_community, organiser_of

pytestmark = pytest.mark.django_db


def test_the_composition_root_wires_the_money_app() -> None:
    assert reactions.membership_left is subscriptions.member_left
    assert reactions.holds_money is ledger.holds_money


def test_an_organiser_ending_a_membership_calls_the_reaction_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called: list[tuple[int, str]] = []
    monkeypatch.setattr(
        reactions_module.reactions,
        "membership_left",
        lambda m: called.append((m.pk, m.status)),
    )
    community = make_community(slug="reacting")
    member = add_member(community)
    organiser = organiser_of(community)
    services.membership_change(actor=organiser, membership=member, status="lapsed")
    assert called == []  # lapsing is not leaving
    services.membership_change(actor=organiser, membership=member, status="left")
    assert called == [(member.pk, Membership.Status.LEFT)]
    services.membership_change(actor=organiser, membership=member, status="left")
    assert called == [(member.pk, Membership.Status.LEFT)]  # already left: not again
