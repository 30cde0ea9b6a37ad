"""The schedule rule (SPEC §2.6) as properties: the pure projection (rotation.schedule.project)
over random rosters, anchors and pins; and the services over random sequences of sign-ups,
withdrawals, removals, accepted swaps and weeks going by — one shift a week, nobody skipped,
and what was published is what gets fixed."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from members import weeks
from members.models import Membership
from rotation import schedule, services
from rotation.models import Override, RosterEntry, Shift, SwapRequest
from tests.factories import bulk_members, make_community, organiser_of
from tests.rewards.weekly_helpers import MONDAY_W45, SHANGHAI, W45, WEEK

pytestmark = pytest.mark.django_db

# --- The pure projection ------------------------------------------------------------------------

BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@st.composite
def rosters(draw: Any, min_size: int = 0, max_size: int = 7) -> list[schedule.Entry]:
    """Active entries of distinct members, at distinct (minute, id) positions, in any order."""
    n = draw(st.integers(min_size, max_size))
    minutes = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    members = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    entries = [
        schedule.Entry(i, m, (BASE + datetime.timedelta(minutes=t), i))
        for i, m, t in zip(ids, members, minutes, strict=True)
    ]
    return draw(st.permutations(entries))


positions = st.builds(
    lambda t, i: (BASE + datetime.timedelta(minutes=t), i),
    st.integers(-5, 55),
    st.integers(1, 10_000),
)
starts = st.integers(0, 300).map(lambda k: datetime.date(2026, 1, 5) + k * WEEK)


def _ordered(roster: list[schedule.Entry]) -> list[schedule.Entry]:
    return sorted(roster, key=lambda e: e.position)


def _first_after(ordered: list[schedule.Entry], after: schedule.Position | None) -> int:
    """The index the rotation continues at: the first entry placed after the anchor (an entry
    that may have left), else the top of the roster."""
    if after is None:
        return 0
    later = [i for i, e in enumerate(ordered) if e.position > after]
    return later[0] if later else 0


@given(
    roster=rosters(),
    after=st.none() | positions,
    start=starts,
    count=st.integers(0, 40),
    pinned=st.dictionaries(st.integers(0, 39), st.integers(1, 10_000), max_size=6),
)
def test_every_week_has_one_slot_and_at_most_one_moderator(
    roster: list[schedule.Entry],
    after: schedule.Position | None,
    start: datetime.date,
    count: int,
    pinned: dict[int, int],
) -> None:
    pins = {start + k * WEEK: m for k, m in pinned.items()}
    slots = schedule.project(roster=roster, after=after, pins=pins, start=start, count=count)
    assert [s.week for s in slots] == [start + k * WEEK for k in range(count)]
    on_roster = {e.membership_id for e in roster}
    for slot in slots:
        if roster:
            assert slot.membership_id in on_roster
            assert slot.turn_id in {e.id for e in roster}
        else:
            assert (slot.membership_id, slot.turn_id, slot.pinned) == (None, None, False)


@given(roster=rosters(min_size=1), after=st.none() | positions, start=starts)
def test_without_pins_every_window_of_n_weeks_has_everyone_once_in_roster_order(
    roster: list[schedule.Entry], after: schedule.Position | None, start: datetime.date
) -> None:
    n = len(roster)
    count = 3 * n + 2
    slots = schedule.project(roster=roster, after=after, pins={}, start=start, count=count)
    ordered = _ordered(roster)
    served = [s.membership_id for s in slots]
    for k in range(count - n + 1):
        assert sorted(served[k : k + n]) == sorted(e.membership_id for e in roster)
    # it continues after the anchor, in roster order, starting over at the end
    first = _first_after(ordered, after)
    assert served[0] == ordered[first].membership_id
    order = [e.membership_id for e in ordered]
    for previous, following in itertools.pairwise(served):
        assert following == order[(order.index(previous) + 1) % n]
    assert not any(s.pinned for s in slots)
    assert [s.turn_id for s in slots] == [
        ordered[(first + k) % n].id for k in range(count)
    ]  # each week uses its own turn


@given(data=st.data(), roster=rosters(min_size=1), after=st.none() | positions, start=starts)
def test_with_p_pins_everyone_serves_within_p_plus_one_rounds(
    data: Any, roster: list[schedule.Entry], after: schedule.Position | None, start: datetime.date
) -> None:
    n = len(roster)
    horizon = 4 * n + 4
    members = [e.membership_id for e in roster]
    pinned = data.draw(
        st.dictionaries(st.integers(0, horizon - 1), st.sampled_from(members), max_size=4)
    )
    pins = {start + k * WEEK: m for k, m in pinned.items()}
    count = horizon + (len(pins) + 1) * n
    slots = schedule.project(roster=roster, after=after, pins=pins, start=start, count=count)
    plain = schedule.project(roster=roster, after=after, pins={}, start=start, count=count)
    window = (len(pins) + 1) * n
    served = [s.membership_id for s in slots]
    for k in range(count - window + 1):
        assert set(served[k : k + window]) == set(members)
    # a pin names who serves and does not move the rotation underneath
    assert [s.turn_id for s in slots] == [s.turn_id for s in plain]
    for slot, under in zip(slots, plain, strict=True):
        if slot.week in pins:
            assert (slot.membership_id, slot.pinned) == (pins[slot.week], True)
        else:
            assert slot == under


@given(
    data=st.data(),
    roster=rosters(),
    after=st.none() | positions,
    start=starts,
)
def test_pins_for_members_not_on_the_roster_are_ignored(
    data: Any, roster: list[schedule.Entry], after: schedule.Position | None, start: datetime.date
) -> None:
    members = {e.membership_id for e in roster}
    outsiders = st.integers(10_001, 20_000)
    inside = st.sampled_from(sorted(members)) if members else st.nothing()
    pinned = data.draw(st.dictionaries(st.integers(0, 19), outsiders | inside, max_size=6))
    pins = {start + k * WEEK: m for k, m in pinned.items()}
    kept = {week: m for week, m in pins.items() if m in members}
    slots = schedule.project(roster=roster, after=after, pins=pins, start=start, count=20)
    assert slots == schedule.project(roster=roster, after=after, pins=kept, start=start, count=20)


def test_an_anchor_after_everyone_starts_over_at_the_top() -> None:
    a = schedule.Entry(1, 11, (BASE, 1))
    b = schedule.Entry(2, 12, (BASE + datetime.timedelta(minutes=1), 2))
    late = (BASE + datetime.timedelta(minutes=5), 9)  # an entry that has left since
    slots = schedule.project(roster=[b, a], after=late, pins={}, start=W45, count=3)
    assert [(s.membership_id, s.turn_id) for s in slots] == [(11, 1), (12, 2), (11, 1)]
    between = (BASE + datetime.timedelta(seconds=30), 5)  # left; placed between a and b
    slots = schedule.project(roster=[b, a], after=between, pins={}, start=W45, count=3)
    assert [s.membership_id for s in slots] == [12, 11, 12]


# --- The services, driven at random ---------------------------------------------------------------

_slugs = itertools.count(1)

join = st.tuples(st.just("join"), st.integers(0, 4))
leave = st.tuples(st.just("leave"), st.integers(0, 4))
remove = st.tuples(st.just("remove"), st.integers(0, 4))
swap = st.tuples(st.just("swap"), st.integers(0, 4), st.integers(0, 4), st.integers(0, 3))
advance = st.tuples(st.just("advance"))
steps = st.lists(st.one_of(join, leave, remove, swap, swap, advance, advance), max_size=22)


def _check_fixed(community: Any, expected: dict[datetime.date, int | None]) -> None:
    """One shift a week, the weeks in a row; each fixed as it was published just before."""
    shifts = list(Shift.objects.filter(community=community).order_by("week"))
    fixed = [s.week for s in shifts]
    assert len(fixed) == len(set(fixed))
    if fixed:
        assert fixed == [fixed[0] + k * WEEK for k in range(len(fixed))]
    for shift in shifts:
        if shift.week in expected:
            assert shift.moderator_id == expected[shift.week], weeks.label(shift.week)


def _expected_next(community: Any, week: datetime.date) -> tuple[int | None, int | None]:
    """The reference rule for the week about to be fixed (nobody skipped): the turn after the
    last turn taken, in roster order, starting over at the end; a pin of someone on the
    roster names who serves it."""
    active = list(
        RosterEntry.objects.filter(community=community, left_at__isnull=True).order_by(
            "signed_up_at", "pk"
        )
    )
    if not active:
        return None, None
    last = (
        Shift.objects.filter(community=community, week__lt=week, turn__isnull=False)
        .select_related("turn")
        .order_by("-week")
        .first()
    )
    turn = active[0]
    if last is not None:
        anchor = (last.turn.signed_up_at, last.turn.pk)
        turn = next((e for e in active if (e.signed_up_at, e.pk) > anchor), active[0])
    pin = Override.objects.filter(community=community, week=week).first()
    if pin is not None and pin.membership_id in {e.membership_id for e in active}:
        return pin.membership_id, turn.pk
    return turn.membership_id, turn.pk


def _run(community: Any, people: list[Membership], traveller: Any, plan: list[Any]) -> None:
    organiser = organiser_of(community)
    now = MONDAY_W45
    services.rotation_tick(community=community)
    expected = {W45: None}
    for step in plan:
        on = set(
            RosterEntry.objects.filter(community=community, left_at__isnull=True).values_list(
                "membership_id", flat=True
            )
        )
        kind = step[0]
        if kind == "join":
            person = people[step[1]]
            if person.pk in on:
                with pytest.raises(ValidationError):
                    services.roster_join(membership=person)
            else:
                services.roster_join(membership=person)
        elif kind in ("leave", "remove"):
            person = people[step[1]]

            def off(person: Membership = person, kind: str = kind) -> None:
                if kind == "leave":
                    services.roster_leave(membership=person)
                else:
                    services.roster_remove(organiser=organiser, membership=person, reason="test")

            if person.pk in on:
                off()
            else:
                before = RosterEntry.objects.filter(community=community).count()
                with pytest.raises(ValidationError):
                    off()
                assert RosterEntry.objects.filter(community=community).count() == before
        elif kind == "swap":
            current = weeks.start_of(community)
            published = [s for s in services.published_weeks(community) if s.week > current]
            serving = sorted(on)  # two moderators on the roster
            if len(serving) < 2:
                continue
            asker = next(p for p in people if p.pk == serving[step[1] % len(serving)])
            asked = next(p for p in people if p.pk == serving[step[2] % len(serving)])
            mine = [s.week for s in published if s.membership_id == asker.pk]
            theirs = [s.week for s in published if s.membership_id == asked.pk]
            if asker.pk == asked.pk or not mine or not theirs:
                continue
            request = services.swap_request(
                requester=asker,
                requester_week=mine[step[3] % len(mine)],
                responder_id=asked.pk,
                responder_week=theirs[0],
            )
            services.swap_answer(responder=asked, swap_id=request.pk, accept=True)
            event("swapped")
            served = {s.week: s.membership_id for s in services.published_weeks(community)}
            assert served[request.requester_week] == asked.pk
            assert served[request.responder_week] == asker.pk
        else:
            following = weeks.start_of(community) + WEEK
            published = {s.week: s.membership_id for s in services.published_weeks(community)}
            now = datetime.datetime.combine(following, datetime.time(9), tzinfo=SHANGHAI)
            traveller.move_to(now)
            moderator, turn = _expected_next(community, following)
            services.rotation_tick(community=community)
            shift = Shift.objects.get(community=community, week=following)
            assert (shift.moderator_id, shift.turn_id) == (moderator, turn)
            assert shift.moderator_id == published[following]  # as published
            expected[following] = published[following]
            event("a week fixed with a moderator" if moderator else "a week fixed, nobody")
        _check_fixed(community, expected)
        assert not SwapRequest.objects.filter(
            community=community, state=SwapRequest.State.PENDING
        ).exists()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=st.integers(0, 5), plan=steps)
def test_random_roster_changes_never_give_a_week_two_shifts_nor_skip_anyone(
    time_machine: time_machine.TimeMachineFixture, first: int, plan: list[Any]
) -> None:
    # a fresh community per example: the test's transaction wraps them all
    time_machine.move_to(MONDAY_W45)
    slug = f"prop-{next(_slugs)}"
    community = make_community(slug=slug)
    people = bulk_members(community, 5, prefix=slug)
    _run(community, people, time_machine, [("join", i) for i in range(first)] + plan)
