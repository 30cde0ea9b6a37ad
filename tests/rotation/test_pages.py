"""The rotation's portal pages: the roster and schedule, signing up and withdrawing, the
on-duty console (the week's moderator and organisers), the organiser's review with the pay
form; and their query budgets, the same for a roster of 5 and of 200."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client

from community import weekly
from members.models import Community, Membership
from rewards import ledger
from rotation import services
from rotation.models import RosterEntry, Shift, SwapRequest
from tests.factories import (
    add_member,
    bulk_members,
    bulk_questions,
    make_community,
    mfa_sign_in,
    organiser_of,
)
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    MONDAY_W45,
    SHANGHAI,
    W45,
    funded_community,
    questions_with_answers,
)
from tests.rotation.helpers import fund_operations, rate, sign_up

pytestmark = pytest.mark.django_db


def _client(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _organiser(community: Community) -> Client:
    """An organiser signed in with two factors: the review shows pay and budgets."""
    client = Client()
    mfa_sign_in(client, organiser_of(community).user)
    return client


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- The roster page ------------------------------------------------------------------------------


def test_the_roster_page_shows_the_order_and_the_schedule(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=6)
    a, b, reader = people[0], people[1], people[5]
    sign_up([b, a])
    services.rotation_tick(community=community)
    url = f"/c/{community.slug}/roster/"
    html = _page(_client(reader), url)
    roster = html[html.index('id="roster"') :]
    assert roster.index(b.profile.handle) < roster.index(a.profile.handle)
    assert 'data-week="2026-W45"' in html
    assert 'data-week="2026-W53"' in html
    assert "Sign up to moderate" in html
    assert 'id="open-console"' not in html
    # b, on duty: the console link, and the withdraw button
    html = _page(_client(b), url)
    assert 'id="open-console"' in html
    assert 'id="withdraw"' in html
    assert "Sign up to moderate" not in html
    assert "Review shifts and pay" in _page(_client(organiser_of(community)), url)


def test_signing_up_and_withdrawing_on_the_page(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=3)
    member = _client(people[0])
    response = member.post(f"/c/{community.slug}/roster/sign-up/")
    assert (response.status_code, response["Location"]) == (302, f"/c/{community.slug}/roster/")
    assert RosterEntry.objects.filter(membership=people[0], left_at__isnull=True).count() == 1
    # again: refused with a message; nothing changed
    response = member.post(f"/c/{community.slug}/roster/sign-up/", follow=True)
    assert "You are on the roster already." in response.content.decode()
    assert RosterEntry.objects.filter(community=community).count() == 1
    member.post(f"/c/{community.slug}/roster/withdraw/")
    assert not RosterEntry.objects.filter(community=community, left_at__isnull=True).exists()
    assert member.get(f"/c/{community.slug}/roster/sign-up/").status_code == 405


def test_the_roster_page_is_for_members(time_machine: time_machine.TimeMachineFixture) -> None:
    community, _people = funded_community(time_machine, members=2)
    url = f"/c/{community.slug}/roster/"
    response = Client().get(url)
    assert response.status_code == 302  # to sign in
    outsider = funded_community(time_machine, members=1, slug="elsewhere")[1][0]
    assert _client(outsider).get(url).status_code == 403


# --- The console and the review -------------------------------------------------------------------


@pytest.fixture
def on_duty(time_machine: time_machine.TimeMachineFixture) -> tuple[Community, list[Membership]]:
    """people[0] on duty in W45, people[1] next; people[5] a plain member."""
    community, people = funded_community(time_machine, members=6)
    sign_up(people[:2])
    services.rotation_tick(community=community)
    return community, people


def test_the_console_is_for_the_moderator_on_duty_and_organisers(on_duty: Any) -> None:
    community, people = on_duty
    url = f"/c/{community.slug}/duty/"
    html = _page(_client(people[0]), url)
    assert f"Moderator on duty: {people[0].profile.handle}." in html
    assert 'id="duty-briefs"' in html
    assert 'id="kpi-answerers">0 / 10<' in html
    # next week's moderator, a plain member: not yet / not at all
    assert _client(people[1]).get(url).status_code == 403
    assert _client(people[5]).get(url).status_code == 403
    # the on-duty moderator sees only the current week
    assert _client(people[0]).get(f"{url}2026-W46/").status_code == 403
    # organisers: any week
    organiser = _client(organiser_of(community))
    assert "2026-W45" in _page(organiser, url)
    html = _page(organiser, f"{url}2026-W44/")
    assert "On-duty console · 2026-W44" in html
    html = _page(organiser, f"{url}2026-W46/")
    assert f"Moderator on duty: {people[1].profile.handle}." in html
    assert organiser.get(f"{url}not-a-week/").status_code == 404
    # a permanent moderator keeps their powers: the current week
    moderator = _client(add_member(community, role=Membership.Role.MODERATOR))
    assert moderator.get(url).status_code == 200


def test_the_console_closes_when_the_shift_ends(
    on_duty: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, people = on_duty
    time_machine.move_to(datetime.datetime(2026, 11, 9, 0, 1, tzinfo=SHANGHAI))
    services.rotation_tick(community=community)
    url = f"/c/{community.slug}/duty/"
    assert _client(people[0]).get(url).status_code == 403
    assert _client(people[1]).get(url).status_code == 200


def test_the_review_is_for_organisers(on_duty: Any) -> None:
    community, people = on_duty
    url = f"/c/{community.slug}/roster/review/"
    assert _client(organiser_of(community)).get(url).status_code == 403  # no second factor
    html = _page(_organiser(community), url)
    assert 'id="shift-2026-W45"' in html
    assert people[0].profile.handle in html
    moderator = add_member(community, role=Membership.Role.MODERATOR)
    assert _client(moderator).get(url).status_code == 403
    assert _client(people[0]).get(url).status_code == 403  # on duty
    assert _client(people[5]).get(url).status_code == 403


def test_removing_on_the_review_page(on_duty: Any) -> None:
    community, people = on_duty
    organiser = _client(organiser_of(community))
    url = f"/c/{community.slug}/roster/{people[1].pk}/remove/"
    organiser.post(url, {"reason": ""})
    assert RosterEntry.objects.get(membership=people[1]).left_at is None
    assert _client(people[0]).post(url, {"reason": "me"}).status_code == 403
    assert RosterEntry.objects.get(membership=people[1]).left_at is None
    response = organiser.post(url, {"reason": "asked to stop"})
    assert response.status_code == 302
    entry = RosterEntry.objects.get(membership=people[1])
    assert (entry.left_at is not None, entry.removal_reason) == (True, "asked to stop")


def test_the_pay_form_needs_two_factors(time_machine: time_machine.TimeMachineFixture) -> None:
    community, people = funded_community(time_machine, members=12)
    fund_operations(community, people[11])
    sign_up(people[:1])
    services.rotation_tick(community=community)
    week = questions_with_answers(community, people, questions=1, answers=4)
    rate(week.answers[0], people[1:3], (4, 4))
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    shift = Shift.objects.get(community=community, week=W45)
    assert shift.pay == 2800  # 4 of 10 answerers, quality 4 of 4
    url = f"/c/{community.slug}/shifts/2026-W45/pay/"
    without = _client(organiser_of(community))
    assert without.post(url, {"pay": 3000, "reason": "x"}).status_code == 403
    organiser = Client()
    mfa_sign_in(organiser, organiser_of(community).user)
    html = _page(organiser, f"/c/{community.slug}/roster/review/")
    assert f'action="/c/{community.slug}/shifts/2026-W45/pay/"' in html
    response = organiser.post(url, {"pay": 3000, "reason": "a good week"})
    assert response.status_code == 302
    shift.refresh_from_db()
    assert shift.pay == 3000
    assert ledger.member_balance(membership=people[0]) == 3000


# --- Query budgets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    community: Community
    on_duty: Membership
    signed_up: Membership  # on the roster, not on duty
    organiser: Membership


def _world(traveller: Any, size: int) -> World:
    """A roster of ``size`` (signed up one minute apart in W44), W45 fixed; briefs and
    questions (1 of each at 5, 6 at 200); a swap asked of the second on the roster."""
    traveller.move_to(MONDAY_W45)
    community = make_community(slug=f"roster-{size}")
    people = bulk_members(community, size + 2, prefix=f"r{size}")
    first = datetime.datetime(2026, 10, 26, 9, 0, tzinfo=SHANGHAI)
    RosterEntry.objects.bulk_create(
        RosterEntry(
            community=community,
            membership=m,
            signed_up_at=first + datetime.timedelta(minutes=i),
        )
        for i, m in enumerate(people[:size])
    )
    services.rotation_tick(community=community)
    # briefs waiting and the week's questions, answered and rated, more with the roster
    bulk_questions(community, people, 1 + size // 40)
    bulk_questions(community, people, 1 + size // 40, week=W45, answers=2, ratings=1)
    services.swap_request(
        requester=people[2],
        requester_week="2026-W47",
        responder_id=people[1].pk,
        responder_week="2026-W46",
    )
    return World(
        community=community,
        on_duty=Membership.objects.get(pk=people[0].pk),
        signed_up=people[1],
        organiser=organiser_of(community),
    )


# Measured: the same at both sizes (with the session, the user and, on pages, the header's
# unread-notification count), no slack.
BUDGETS = {
    "roster_page": 13,
    "roster_api": 9,
    "console": 13,
    "review": 13,
}  # review: + the second factor


@pytest.mark.parametrize("size", [5, 200])
def test_the_query_budgets_hold_at_5_and_200_on_the_roster(
    time_machine: time_machine.TimeMachineFixture,
    django_assert_max_num_queries: Any,
    size: int,
) -> None:
    world = _world(time_machine, size)
    slug = world.community.slug
    member = _client(world.signed_up)
    with django_assert_max_num_queries(BUDGETS["roster_page"]):
        html = _page(member, f"/c/{slug}/roster/")
    assert html.count("<li>r") >= size  # every roster member listed
    api = Client()
    api.force_login(world.signed_up.user)
    with django_assert_max_num_queries(BUDGETS["roster_api"]):
        response = api.get(f"/api/v1/communities/{slug}/roster/")
    assert response.status_code == 200
    assert len(response.json()["roster"]) == size
    moderator, organiser = _client(world.on_duty), _organiser(world.community)
    with django_assert_max_num_queries(BUDGETS["console"]):
        html = _page(moderator, f"/c/{slug}/duty/")
    assert html.count('class="brief"') == 1 + size // 40
    with django_assert_max_num_queries(BUDGETS["review"]):
        html = _page(organiser, f"/c/{slug}/roster/review/")
    assert html.count("Remove from the roster") == size


def test_swapping_on_the_roster_page(on_duty: Any) -> None:
    community, people = on_duty
    a, b = people[:2]  # W45 a (fixed), W46 b, W47 a, W48 b, …
    asker = _client(b)
    html = _page(asker, f"/c/{community.slug}/roster/")
    assert f'value="{a.pk}:2026-W47"' in html
    assert f'value="{a.pk}:2026-W45"' not in html  # the current week is fixed
    response = asker.post(
        f"/c/{community.slug}/roster/swaps/",
        {"requester_week": "2026-W46", "target": f"{a.pk}:2026-W47"},
    )
    assert response.status_code == 302
    swap = SwapRequest.objects.get(community=community)
    assert (swap.requester_id, swap.responder_id) == (b.pk, a.pk)
    # a week not offered: refused, nothing asked
    asker.post(
        f"/c/{community.slug}/roster/swaps/",
        {"requester_week": "2026-W45", "target": f"{a.pk}:2026-W47"},
    )
    assert SwapRequest.objects.filter(community=community).count() == 1
    answer = _client(a)
    assert answer.post(f"/c/{community.slug}/roster/swaps/{swap.pk}/maybe/").status_code == 404
    answer.post(f"/c/{community.slug}/roster/swaps/{swap.pk}/accept/")
    swap.refresh_from_db()
    assert swap.state == SwapRequest.State.ACCEPTED
    html = _page(answer, f"/c/{community.slug}/roster/")
    assert html.count("swapped") >= 2
