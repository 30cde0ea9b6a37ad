"""The rotation's API (SPEC §5): the roster and schedule, signing up and withdrawing, swaps,
removal, the organiser's pay review (two factors), the week's results with the moderator's
pay and KPIs, and the community's moderator targets."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from community import weekly
from members.models import CommunityAuditLog, Membership
from rewards import ledger
from rewards.models import BudgetAdjustment, Transaction
from rotation import services
from rotation.models import Override, PayAdjustment, RosterEntry, Shift, SwapRequest
from tests.factories import add_member, mfa_token, organiser_of
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    W45,
    at,
    funded_community,
    questions_with_answers,
)
from tests.rotation.helpers import fund_operations, rate, sign_up, w, who

pytestmark = pytest.mark.django_db


def _url(slug: str, rest: str) -> str:
    return f"/api/v1/communities/{slug}/{rest}"


def _as(api: APIClient, membership: Membership) -> APIClient:
    api.force_authenticate(membership.user)
    return api


def _when(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value)


# --- The roster -----------------------------------------------------------------------------------


def test_the_roster_lists_sign_ups_in_order_and_the_schedule(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=6)
    a, b, reader = people[0], people[1], people[5]
    time_machine.move_to(at(W45, 9, 0))
    services.roster_join(membership=b)
    time_machine.move_to(at(W45, 9, 5))
    services.roster_join(membership=a)
    services.rotation_tick(community=community)
    response = _as(api, reader).get(_url(community.slug, "roster/"))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"roster", "schedule"}
    assert [(r["member"], r["handle"]) for r in data["roster"]] == [
        (b.pk, b.profile.handle),
        (a.pk, a.profile.handle),
    ]
    assert [set(r) for r in data["roster"]] == [{"member", "handle", "signed_up_at"}] * 2
    assert [_when(r["signed_up_at"]) for r in data["roster"]] == [at(W45, 9, 0), at(W45, 9, 5)]
    handles = {b.pk: b.profile.handle, a.pk: a.profile.handle}
    order = [b.pk, a.pk] * 5
    assert data["schedule"] == [
        {
            "week": f"2026-W{45 + k}",
            "member": order[k],
            "handle": handles[order[k]],
            "fixed": k == 0,
            "pinned": False,
        }
        for k in range(9)
    ]


def test_a_member_signs_up_once_and_withdraws(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=6)
    a, b = people[:2]
    sign_up([a])
    url = _url(community.slug, "roster/")
    response = _as(api, b).post(url)
    assert response.status_code == 201
    entry = RosterEntry.objects.get(membership=b)
    assert response.json()["member"] == b.pk
    assert _when(response.json()["signed_up_at"]) == entry.signed_up_at
    assert who(community)[:3] == [a.pk, b.pk, a.pk]
    # again: 400, saying why, nothing changed
    response = api.post(url)
    assert response.status_code == 400
    assert response.json() == {"roster": ["You are on the roster already."]}
    assert RosterEntry.objects.filter(community=community).count() == 2
    # withdrawing
    response = api.delete(_url(community.slug, "roster/me/"))
    assert (response.status_code, response.content) == (204, b"")
    entry.refresh_from_db()
    assert entry.left_at is not None
    assert who(community)[:3] == [a.pk, a.pk, a.pk]
    # again: not on the roster
    response = api.delete(_url(community.slug, "roster/me/"))
    assert response.status_code == 400
    assert response.json() == {"roster": [f"{b.profile.handle} is not on the roster."]}


def test_the_roster_is_for_members(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, _people = funded_community(time_machine, members=2)
    url = _url(community.slug, "roster/")
    assert api.get(url).status_code in (401, 403)
    outsider = funded_community(time_machine, members=1, slug="elsewhere")[1][0]
    assert _as(api, outsider).get(url).status_code == 403
    assert api.post(url).status_code == 403
    assert not RosterEntry.objects.filter(community=community).exists()
    assert _as(api, outsider).get(_url("nowhere", "roster/")).status_code == 404


# --- Swaps ----------------------------------------------------------------------------------------


def _three(traveller: Any) -> tuple[Any, list[Membership]]:
    community, people = funded_community(traveller, members=6)
    sign_up(people[:3])
    services.rotation_tick(community=community)
    return community, people


def test_a_swap_asked_and_accepted(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = _three(time_machine)
    a, b, c = people[:3]
    response = _as(api, b).post(
        _url(community.slug, "swaps/"),
        {"requester_week": "2026-W46", "responder": c.pk, "responder_week": "2026-W47"},
    )
    assert response.status_code == 201, response.content
    swap = SwapRequest.objects.get(community=community)
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("created_at",)} == {
        "id": swap.pk,
        "state": "pending",
        "requester": b.pk,
        "requester_week": "2026-W46",
        "responder": c.pk,
        "responder_week": "2026-W47",
        "decided_at": None,
    }
    listed = _as(api, c).get(_url(community.slug, "swaps/")).json()
    assert ([s["id"] for s in listed["incoming"]], listed["outgoing"]) == ([swap.pk], [])
    # the requester cannot accept it; the asked one can
    response = _as(api, b).post(_url(community.slug, f"swaps/{swap.pk}/accept/"))
    assert response.status_code == 400
    assert set(response.json()) == {"swap"}
    response = _as(api, c).post(_url(community.slug, f"swaps/{swap.pk}/accept/"))
    assert response.status_code == 200
    assert response.json()["state"] == "accepted"
    assert who(community)[:4] == [a.pk, c.pk, b.pk, a.pk]
    assert Override.objects.filter(community=community).count() == 2
    # answered already
    response = api.post(_url(community.slug, f"swaps/{swap.pk}/decline/"))
    assert response.status_code == 400
    assert response.json() == {"swap": ["This request was answered already (Accepted)."]}
    assert Override.objects.filter(community=community).count() == 2


def test_a_swap_declined(api: APIClient, time_machine: time_machine.TimeMachineFixture) -> None:
    community, people = _three(time_machine)
    _a, b, c = people[:3]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    schedule = who(community)
    response = _as(api, c).post(_url(community.slug, f"swaps/{swap.pk}/decline/"))
    assert response.status_code == 200
    assert response.json()["state"] == "declined"
    assert who(community) == schedule
    assert not Override.objects.filter(community=community).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"requester_week": "2026-W45", "responder_week": "2026-W47"}, "requester_week"),
        ({"requester_week": "2026-W46", "responder_week": "2026-W48"}, "responder_week"),
        ({"requester_week": "2026-W46", "responder_week": "soon"}, "responder_week"),
        ({"requester_week": "2026-W46"}, "responder_week"),
    ],
)
def test_a_bad_swap_is_a_400_naming_the_field(
    api: APIClient, time_machine: time_machine.TimeMachineFixture, body: dict[str, str], field: str
) -> None:
    community, people = _three(time_machine)
    _a, b, c = people[:3]
    response = _as(api, b).post(_url(community.slug, "swaps/"), {"responder": c.pk, **body})
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not SwapRequest.objects.filter(community=community).exists()


def test_swapping_with_oneself_or_an_unknown_swap_is_a_400(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = _three(time_machine)
    b = people[1]
    response = _as(api, b).post(
        _url(community.slug, "swaps/"),
        {"requester_week": "2026-W46", "responder": b.pk, "responder_week": "2026-W47"},
    )
    assert response.status_code == 400
    assert response.json() == {"responder": ["You cannot swap with yourself."]}
    response = api.post(_url(community.slug, "swaps/999999/accept/"))
    assert response.status_code == 400
    assert response.json() == {"swap": ["No such swap request."]}
    assert not SwapRequest.objects.filter(community=community).exists()


def test_accepting_after_the_week_began_is_a_400_and_the_swap_expires(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = _three(time_machine)
    _a, b, c = people[:3]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    time_machine.move_to(at(w(46), 8))
    response = _as(api, c).post(_url(community.slug, f"swaps/{swap.pk}/accept/"))
    assert response.status_code == 400
    assert response.json() == {"swap": ["This request has expired: one of its weeks has begun."]}
    swap.refresh_from_db()
    assert swap.state == SwapRequest.State.EXPIRED
    assert not Override.objects.filter(community=community).exists()


# --- Removal --------------------------------------------------------------------------------------


def test_an_organiser_removes_a_moderator_with_a_reason(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = _three(time_machine)
    a, b, c = people[:3]
    url = _url(community.slug, f"roster/{b.pk}/remove/")
    # a member may not; the organiser must say why
    assert _as(api, a).post(url, {"reason": "no"}).status_code == 403
    organiser = organiser_of(community)
    response = _as(api, organiser).post(url, {"reason": ""})
    assert response.status_code == 400
    assert set(response.json()) == {"reason"}
    assert RosterEntry.objects.get(membership=b).left_at is None
    response = api.post(url, {"reason": "missed two shifts"})
    assert response.status_code == 204
    entry = RosterEntry.objects.get(membership=b)
    assert (entry.removal_reason, entry.removed_by) == ("missed two shifts", organiser.user)
    assert who(community)[:3] == [a.pk, c.pk, a.pk]
    # again: no longer on the roster
    response = api.post(url, {"reason": "again"})
    assert response.status_code == 400
    assert set(response.json()) == {"roster"}
    assert api.post(_url(community.slug, "roster/999999/remove/"), {"reason": "x"}).status_code == (
        404
    )


# --- The pay review and the week's results ------------------------------------------------------


@pytest.fixture
def closed(time_machine: time_machine.TimeMachineFixture) -> tuple[Any, list[Membership]]:
    """W45 closed: people[0] paid floor(7,000 × 7/10 × 3.5/4) = 4,287; the clock in W46."""
    community, people = funded_community(time_machine, members=12)
    fund_operations(community, people[11])
    sign_up(people[:2])
    services.rotation_tick(community=community)
    week = questions_with_answers(community, people, questions=2, answers=4)
    rate(week.answers[0], people[2:4], (4, 3))
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    return community, people


def test_the_week_s_results_show_the_moderator_pay_and_kpis(api: APIClient, closed: Any) -> None:
    community, people = closed
    response = _as(api, people[7]).get(_url(community.slug, "weeks/2026-W45/"))
    assert response.status_code == 200
    data = response.json()
    assert data["closed"] is True
    assert data["moderator"] == {"member": people[0].pk, "handle": people[0].profile.handle}
    assert data["moderator_pay"] == 4287
    assert data["kpis"] == {"answerers": 7, "answers": 8, "quality": 3.5}
    assert data["rollover_out"]["operations"] == 7000 - 4287


def test_the_organiser_with_two_factors_adjusts_the_pay(api: APIClient, closed: Any) -> None:
    community, people = closed
    url = _url(community.slug, "weeks/2026-W45/moderator-pay/")
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, organiser_of(community).user)}")
    response = api.post(url, {"pay": 5000, "reason": "hard questions"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "week": "2026-W45",
        "member": people[0].pk,
        "pay_before": 4287,
        "moderator_pay": 5000,
        "entered_week": "2026-W46",
        "reason": "hard questions",
    }
    assert ledger.member_balance(membership=people[0]) == 5000
    # the closed week's own accounts stay as the close froze them
    assert api.get(_url(community.slug, "weeks/2026-W45/")).json()["moderator_pay"] == 4287
    # refused: above the budget, no reason, a week without a shift
    for body in ({"pay": 7001, "reason": "x"}, {"pay": 1000}):
        response = api.post(url, body)
        assert response.status_code == 400
        assert set(response.json()) == ({"pay"} if "reason" in body else {"reason"})
    response = api.post(url, {"pay": 7001, "reason": "x"})
    assert response.json() == {
        "pay": ["Pay cannot be more than the week's operations budget (7000)."]
    }
    no_shift = _url(community.slug, "weeks/2026-W44/moderator-pay/")
    assert api.post(no_shift, {"pay": 1, "reason": "x"}).status_code == 404
    assert PayAdjustment.objects.count() == 1


def _nothing_paid(community: Any) -> tuple[Any, ...]:
    return (
        PayAdjustment.objects.count(),
        BudgetAdjustment.objects.filter(community=community).count(),
        Transaction.objects.filter(community=community).count(),
        Shift.objects.get(community=community, week=W45).pay,
        CommunityAuditLog.objects.filter(community=community).count(),
    )


def test_only_organisers_with_two_factors_adjust_the_pay(api: APIClient, closed: Any) -> None:
    community, people = closed
    url = _url(community.slug, "weeks/2026-W45/moderator-pay/")
    moderator = add_member(community, role=Membership.Role.MODERATOR)
    before = _nothing_paid(community)
    on_duty = people[0]  # the week's own moderator
    for who_ in (moderator, on_duty, people[5]):
        response = _as(api, who_).post(url, {"pay": 7000, "reason": "me"})
        assert response.status_code == 403, who_
    # an organiser signed in without the second factor
    response = _as(api, organiser_of(community)).post(url, {"pay": 7000, "reason": "x"})
    assert response.status_code == 403
    assert _nothing_paid(community) == before


# --- The community's targets ----------------------------------------------------------------------


def test_the_organiser_sets_the_moderator_targets(
    api: APIClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = funded_community(time_machine, members=2)
    url = f"/api/v1/communities/{community.slug}/"
    _as(api, organiser_of(community))
    response = api.patch(url, {"moderator_target_answerers": 12, "moderator_target_quality": 4.5})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["moderator_target_answerers"], body["moderator_target_quality"]) == (12, 4.5)
    community.refresh_from_db()
    assert (community.moderator_target_answerers, str(community.moderator_target_quality)) == (
        12,
        "4.50",
    )
    for change in (
        {"moderator_target_answerers": 0},
        {"moderator_target_quality": 0},
        {"moderator_target_quality": 6},
        {"moderator_target_quality": 4.555},
    ):
        response = api.patch(url, change)
        assert response.status_code == 400, change
        assert set(response.json()) == set(change)
    community.refresh_from_db()
    assert (community.moderator_target_answerers, str(community.moderator_target_quality)) == (
        12,
        "4.50",
    )
    # members may not
    response = _as(api, people[0]).patch(url, {"moderator_target_answerers": 3})
    assert response.status_code == 403


def test_shifts_are_listed_for_organisers_and_one_s_own_for_a_moderator(
    api: APIClient, closed: Any
) -> None:
    community, people = closed
    services.rotation_tick(community=community)  # W46 fixed: people[1], under way
    url = _url(community.slug, "shifts/")
    rows = _as(api, organiser_of(community)).get(url).json()["results"]
    assert rows == [
        {
            "week": "2026-W46",
            "member": people[1].pk,
            "handle": people[1].profile.handle,
            "pinned": False,
            "kpis": None,
            "operations_budget": None,
            "pay_at_close": None,
            "moderator_pay": None,
        },
        {
            "week": "2026-W45",
            "member": people[0].pk,
            "handle": people[0].profile.handle,
            "pinned": False,
            "kpis": {"answerers": 7, "answers": 8, "quality": 3.5, "digest_on_time": None},
            "operations_budget": 7000,
            "pay_at_close": 4287,
            "moderator_pay": 4287,
        },
    ]
    mine = _as(api, people[0]).get(url).json()["results"]
    assert [r["week"] for r in mine] == ["2026-W45"]
    assert _as(api, people[6]).get(url).json()["results"] == []
