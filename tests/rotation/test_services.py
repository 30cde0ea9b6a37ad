"""The roster, the schedule, swaps and reminders (SPEC §2.6) through rotation.services: first
come, later shifts moving up, a week fixed when it begins and never changed after, swaps that
pin both weeks, refusals that change nothing, and reminders sent once, in the recipient's
language."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from members import weeks
from members.models import CommunityAuditLog, Membership
from rotation import services
from rotation.audit import Event
from rotation.models import Notice, Override, RosterEntry, Shift, SwapRequest
from tests.factories import add_member, organiser_of, set_status
from tests.rewards.weekly_helpers import MONDAY_W45, SHANGHAI, W45, at, funded_community
from tests.rotation.helpers import roster_ids, schedule_of, sign_up, w, who

pytestmark = pytest.mark.django_db
W46, W47, W48 = w(46), w(47), w(48)
MONDAY_W46 = datetime.datetime(2026, 11, 9, 9, 0, tzinfo=SHANGHAI)
SATURDAY_W45 = datetime.datetime(2026, 11, 7, 10, 0, tzinfo=SHANGHAI)


def _community(traveller: Any, members: int = 6) -> tuple[Any, list[Membership]]:
    return funded_community(traveller, members=members)


def _state(community: Any) -> tuple[Any, ...]:
    """Everything a refused call must leave as it was."""
    return (
        list(
            RosterEntry.objects.filter(community=community)
            .order_by("pk")
            .values_list("pk", "membership_id", "left_at", "removal_reason")
        ),
        list(
            SwapRequest.objects.filter(community=community)
            .order_by("pk")
            .values_list("pk", "state", "decided_at")
        ),
        list(
            Override.objects.filter(community=community)
            .order_by("week")
            .values_list("week", "membership_id")
        ),
        list(
            Shift.objects.filter(community=community)
            .order_by("week")
            .values_list("week", "moderator_id", "turn_id")
        ),
        Notice.objects.filter(community=community).count(),
        CommunityAuditLog.objects.filter(community=community).count(),
        schedule_of(community),
    )


def _field(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(error.value.message_dict)


# --- The roster -----------------------------------------------------------------------------------


def test_sign_up_is_first_come_and_a_new_sign_up_joins_the_end(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c, d = people[:4]
    # given three sign-ups a minute apart, made out of order of their ids
    time_machine.move_to(at(W45, 9, 0))
    services.roster_join(membership=c)
    time_machine.move_to(at(W45, 9, 1))
    services.roster_join(membership=a)
    time_machine.move_to(at(W45, 9, 2))
    services.roster_join(membership=b)
    assert roster_ids(community) == [c.pk, a.pk, b.pk]
    assert schedule_of(community) == [
        ("2026-W45", c.pk),
        ("2026-W46", a.pk),
        ("2026-W47", b.pk),
        ("2026-W48", c.pk),
        ("2026-W49", a.pk),
        ("2026-W50", b.pk),
        ("2026-W51", c.pk),
        ("2026-W52", a.pk),
        ("2026-W53", b.pk),
    ]
    # when a fourth signs up: at the end
    time_machine.move_to(at(W45, 10, 0))
    entry = services.roster_join(membership=d)
    assert entry.signed_up_at == at(W45, 10, 0)
    assert roster_ids(community) == [c.pk, a.pk, b.pk, d.pk]
    assert who(community) == [c.pk, a.pk, b.pk, d.pk, c.pk, a.pk, b.pk, d.pk, c.pk]
    joined = CommunityAuditLog.objects.filter(community=community, event=Event.ROSTER_JOINED)
    assert joined.count() == 4
    assert joined.filter(membership=d, data={"entry": entry.pk}).count() == 1


def test_withdrawal_moves_later_shifts_up(time_machine: time_machine.TimeMachineFixture) -> None:
    community, people = _community(time_machine)
    a, b, c, d = people[:4]
    sign_up([a, b, c, d])
    services.rotation_tick(community=community)  # W45 fixed: a
    # when b withdraws
    entry = services.roster_leave(membership=b)
    # then c and d move up; the entry is ended, not deleted
    assert who(community) == [a.pk, c.pk, d.pk, a.pk, c.pk, d.pk, a.pk, c.pk, d.pk]
    assert entry.left_at is not None
    assert (entry.removed_by, entry.removal_reason) == (None, "")
    assert RosterEntry.objects.filter(community=community).count() == 4
    assert CommunityAuditLog.objects.filter(
        community=community, event=Event.ROSTER_LEFT, membership=b
    ).exists()
    # signing up again makes a new entry at the end
    services.roster_join(membership=b)
    assert roster_ids(community) == [a.pk, c.pk, d.pk, b.pk]
    assert who(community)[:5] == [a.pk, c.pk, d.pk, b.pk, a.pk]


def test_an_organiser_removes_a_moderator_with_a_reason_and_later_shifts_move_up(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c = people[:3]
    organiser = organiser_of(community)
    sign_up([a, b, c])
    services.rotation_tick(community=community)
    entry = services.roster_remove(organiser=organiser, membership=c, reason="  never showed  up ")
    assert (entry.removed_by, entry.removal_reason) == (organiser.user, "never showed up")
    assert who(community) == [a.pk, b.pk, a.pk, b.pk, a.pk, b.pk, a.pk, b.pk, a.pk]
    notice = Notice.objects.get(community=community, recipient=c)
    assert (notice.kind, notice.week, notice.data) == (
        Notice.Kind.REMOVED,
        W45,
        {"week": "2026-W45", "reason": "never showed up"},
    )
    log = CommunityAuditLog.objects.get(community=community, event=Event.ROSTER_REMOVED)
    assert (log.actor, log.membership, log.data) == (
        organiser.user,
        c,
        {"entry": entry.pk, "reason": "never showed up"},
    )


def test_removal_needs_a_reason_and_changes_nothing_without_one(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    sign_up(people[:2])
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.roster_remove(organiser=organiser_of(community), membership=people[1], reason=" ")
    assert _field(error) == {"reason"}
    assert _state(community) == before


def test_a_week_with_an_empty_roster_gets_a_shift_without_a_moderator(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, _people = _community(time_machine)
    services.rotation_tick(community=community)
    shift = Shift.objects.get(community=community)
    assert (shift.week, shift.moderator_id, shift.turn_id, shift.pinned) == (W45, None, None, False)
    assert who(community) == [None] * 9
    assert not Notice.objects.filter(community=community).exists()


def test_signing_up_twice_is_refused_and_changes_nothing(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    sign_up(people[:2])
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.roster_join(membership=people[0])
    assert _field(error) == {"roster"}
    assert error.value.messages == ["You are on the roster already."]
    assert _state(community) == before


def test_withdrawing_when_not_on_the_roster_is_refused_and_changes_nothing(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    sign_up(people[:2])
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.roster_leave(membership=people[3])
    assert _field(error) == {"roster"}
    assert error.value.messages == [f"{people[3].profile.handle} is not on the roster."]
    assert _state(community) == before


def test_only_active_members_sign_up(time_machine: time_machine.TimeMachineFixture) -> None:
    from tests.factories import set_status

    community, people = _community(time_machine)
    lapsed = set_status(people[0], Membership.Status.LAPSED)
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.roster_join(membership=lapsed)
    assert _field(error) == {"roster"}
    assert _state(community) == before


# --- Fixing a week when it begins -------------------------------------------------------------


def test_a_week_is_fixed_when_it_begins_and_never_changes_after(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c, d = people[:4]
    sign_up([a, b, c])
    # a week that has not begun is not fixed
    with pytest.raises(ValidationError) as error:
        services.shifts_fix_through(community=community, week=W46)
    assert _field(error) == {"week"}
    assert not Shift.objects.filter(community=community).exists()
    # when W45 is fixed
    shift = services.shifts_fix_through(community=community, week=W45)
    assert shift is not None
    assert (shift.week, shift.moderator_id, shift.pinned) == (W45, a.pk, False)
    assert shift.turn == RosterEntry.objects.get(membership=a)
    a.refresh_from_db()
    assert a.on_duty_week == W45
    assert a.is_moderator
    # then sign-ups and withdrawals after that do not change it
    services.roster_leave(membership=a)
    services.roster_join(membership=d)
    assert services.shifts_fix_through(community=community, week=W45) == shift
    assert list(Shift.objects.filter(community=community).values_list("week", "moderator")) == [
        (W45, a.pk)
    ]
    assert schedule_of(community)[:4] == [
        ("2026-W45", a.pk),
        ("2026-W46", b.pk),
        ("2026-W47", c.pk),
        ("2026-W48", d.pk),
    ]
    assert services.moderator_of(community, W45) == a.pk
    a.refresh_from_db()
    assert a.on_duty_week == W45  # a shift begun stays theirs, with its powers
    # the next week is fixed when it begins, as published
    time_machine.move_to(MONDAY_W46)
    services.rotation_tick(community=community)
    services.rotation_tick(community=community)
    assert list(
        Shift.objects.filter(community=community).order_by("week").values_list("week", "moderator")
    ) == [(W45, a.pk), (W46, b.pk)]
    b.refresh_from_db()
    a.refresh_from_db()
    assert (b.on_duty_week, b.is_moderator, a.is_moderator) == (W46, True, False)


def test_weeks_the_beat_missed_had_nobody_on_duty_and_use_no_turn(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c = people[:3]
    sign_up([a, b, c])
    services.rotation_tick(community=community)
    # the beat stops for two weeks: W46 began and ended with nobody fixed, nobody on duty
    time_machine.move_to(at(w(47), 9))
    services.rotation_tick(community=community)
    assert list(
        Shift.objects.filter(community=community).order_by("week").values_list("week", "moderator")
    ) == [(W45, a.pk), (W46, None), (W47, b.pk)]
    assert services.moderator_of(community, W46) is None
    b.refresh_from_db()
    c.refresh_from_db()
    assert (b.on_duty_week, b.is_moderator, c.is_moderator) == (W47, True, False)
    begins = Notice.objects.filter(community=community, kind=Notice.Kind.SHIFT_BEGINS)
    assert sorted(begins.values_list("recipient_id", "week")) == sorted([(a.pk, W45), (b.pk, W47)])


def test_the_rotation_goes_on_from_the_last_fixed_turn_even_if_that_member_left(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c = people[:3]
    sign_up([a, b, c])
    services.rotation_tick(community=community)  # W45: a
    time_machine.move_to(MONDAY_W46)
    services.rotation_tick(community=community)  # W46: b
    # when b, whose turn W46 used, leaves
    services.roster_leave(membership=b)
    # then W47 is c's (after b), not a's (the top of the roster)
    assert who(community) == [b.pk, c.pk, a.pk, c.pk, a.pk, c.pk, a.pk, c.pk, a.pk]
    time_machine.move_to(at(W47, 9))
    services.rotation_tick(community=community)
    assert Shift.objects.get(community=community, week=W47).moderator_id == c.pk


def test_an_empty_week_does_not_lose_the_place_in_the_rotation(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c = people[:3]
    sign_up([a, b, c])
    services.rotation_tick(community=community)  # W45: a
    # everyone leaves; W46 has nobody
    for person in (a, b, c):
        services.roster_leave(membership=person)
    time_machine.move_to(MONDAY_W46)
    services.rotation_tick(community=community)
    assert Shift.objects.get(community=community, week=W46).moderator_id is None
    # c and b come back, in that order: new entries, at the end, after a's turn
    sign_up([c, b])
    assert who(community)[:3] == [None, c.pk, b.pk]


# --- Swaps ------------------------------------------------------------------------------------


def _three_on_duty(traveller: Any) -> tuple[Any, list[Membership]]:
    """a, b, c on the roster; W45 fixed (a): W46 b, W47 c, W48 a, …"""
    community, people = _community(traveller)
    sign_up(people[:3])
    services.rotation_tick(community=community)
    return community, people


def test_an_accepted_swap_pins_both_weeks(time_machine: time_machine.TimeMachineFixture) -> None:
    community, people = _three_on_duty(time_machine)
    a, b, c = people[:3]
    # when b asks c to swap W46 for W47
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    assert swap.state == SwapRequest.State.PENDING
    asked = Notice.objects.get(community=community, kind=Notice.Kind.SWAP_ASKED)
    assert (asked.recipient_id, asked.week) == (c.pk, W47)
    assert who(community)[:4] == [a.pk, b.pk, c.pk, a.pk]  # nothing moves until c accepts
    # and c accepts
    services.swap_answer(responder=c, swap_id=swap.pk, accept=True)
    swap.refresh_from_db()
    assert swap.state == SwapRequest.State.ACCEPTED
    assert swap.decided_at is not None
    assert list(
        Override.objects.filter(community=community)
        .order_by("week")
        .values_list("week", "membership_id", "swap_id")
    ) == [(W46, c.pk, swap.pk), (W47, b.pk, swap.pk)]
    slots = services.published_weeks(community)
    assert [(s.membership_id, s.pinned) for s in slots[:5]] == [
        (a.pk, False),
        (c.pk, True),
        (b.pk, True),
        (a.pk, False),
        (b.pk, False),
    ]
    accepted = Notice.objects.get(community=community, kind=Notice.Kind.SWAP_ACCEPTED)
    assert (accepted.recipient_id, accepted.week) == (b.pk, W46)
    assert CommunityAuditLog.objects.filter(
        community=community, event=Event.SHIFTS_SWAPPED, actor=c.user, membership=b
    ).exists()
    # and the pinned weeks are fixed so
    time_machine.move_to(MONDAY_W46)
    services.rotation_tick(community=community)
    shift = Shift.objects.get(community=community, week=W46)
    assert (shift.moderator_id, shift.pinned, shift.turn.membership_id) == (c.pk, True, b.pk)
    time_machine.move_to(at(W47, 9))
    services.rotation_tick(community=community)
    shift = Shift.objects.get(community=community, week=W47)
    assert (shift.moderator_id, shift.pinned, shift.turn.membership_id) == (b.pk, True, c.pk)


def test_a_declined_swap_changes_no_shift(time_machine: time_machine.TimeMachineFixture) -> None:
    community, people = _three_on_duty(time_machine)
    _a, b, c = people[:3]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    schedule = schedule_of(community)
    services.swap_answer(responder=c, swap_id=swap.pk, accept=False)
    swap.refresh_from_db()
    assert swap.state == SwapRequest.State.DECLINED
    assert not Override.objects.filter(community=community).exists()
    assert schedule_of(community) == schedule
    declined = Notice.objects.get(community=community, kind=Notice.Kind.SWAP_DECLINED)
    assert declined.recipient_id == b.pk


def test_a_swap_expires_when_either_week_begins(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)
    _a, b, c = people[:3]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    time_machine.move_to(at(W46, 0, 1))
    # when c accepts after W46 began
    with pytest.raises(ValidationError) as error:
        services.swap_answer(responder=c, swap_id=swap.pk, accept=True)
    assert _field(error) == {"swap"}
    assert error.value.messages == ["This request has expired: one of its weeks has begun."]
    swap.refresh_from_db()
    assert swap.state == SwapRequest.State.EXPIRED
    assert not Override.objects.filter(community=community).exists()
    # accepting it again: refused the same way, nothing changes
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.swap_answer(responder=c, swap_id=swap.pk, accept=True)
    assert _field(error) == {"swap"}
    assert _state(community) == before


def test_a_request_withdrawn_after_its_week_began_is_recorded_expired(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    _community, people = _three_on_duty(time_machine)
    _a, b, c = people[:3]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    pending = services.swap_request(
        requester=c, requester_week="2026-W50", responder_id=b.pk, responder_week="2026-W49"
    )
    time_machine.move_to(at(W46, 0, 1))
    services.swap_cancel(requester=b, swap_id=swap.pk)
    services.swap_cancel(requester=c, swap_id=pending.pk)
    swap.refresh_from_db()
    pending.refresh_from_db()
    assert (swap.state, pending.state) == (SwapRequest.State.EXPIRED, SwapRequest.State.CANCELLED)


def test_the_beat_expires_swaps_whose_week_began(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)
    a, _b, c = people[:3]
    first = services.swap_request(
        requester=c, requester_week="2026-W47", responder_id=a.pk, responder_week="2026-W48"
    )
    time_machine.move_to(MONDAY_W46)
    services.rotation_tick(community=community)
    first.refresh_from_db()
    assert first.state == SwapRequest.State.PENDING  # W47 and W48 have not begun
    time_machine.move_to(at(W47, 9))
    services.rotation_tick(community=community)
    first.refresh_from_db()
    assert first.state == SwapRequest.State.EXPIRED
    assert Shift.objects.get(community=community, week=W47).moderator_id == c.pk
    with pytest.raises(ValidationError) as error:
        services.swap_answer(responder=a, swap_id=first.pk, accept=True)
    assert _field(error) == {"swap"}


def test_overlapping_swap_requests_are_refused(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)
    a, b, c = people[:3]
    services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.swap_request(
            requester=a, requester_week="2026-W48", responder_id=c.pk, responder_week="2026-W47"
        )
    assert _field(error) == {"swap"}
    assert _state(community) == before


@pytest.mark.parametrize(
    ("mine", "theirs", "field"),
    [
        ("2026-W45", "2026-W47", "requester_week"),  # the current shift
        ("2026-W44", "2026-W47", "requester_week"),  # a past week
        ("2026-W46", "2026-W45", "responder_week"),
        ("2026-W46", "2027-W02", "responder_week"),  # beyond the published schedule
        ("2026-W46", "not a week", "responder_week"),
        ("2026-W47", "2026-W47", "requester_week"),  # not b's shift
        ("2026-W46", "2026-W48", "responder_week"),  # not c's shift
    ],
)
def test_swapping_a_bad_week_is_refused_and_changes_nothing(
    time_machine: time_machine.TimeMachineFixture, mine: str, theirs: str, field: str
) -> None:
    community, people = _three_on_duty(time_machine)
    _a, b, c = people[:3]
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.swap_request(
            requester=b, requester_week=mine, responder_id=c.pk, responder_week=theirs
        )
    assert _field(error) == {field}
    assert _state(community) == before


def test_swapping_with_oneself_or_a_non_moderator_is_refused(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)
    a, b, _c, outsider = people[:4]
    stranger = funded_community(time_machine, members=1, slug="other")[1][0]
    time_machine.move_to(MONDAY_W45)
    before = _state(community)
    for responder, field in (
        (b.pk, "responder"),  # oneself
        (outsider.pk, "responder"),  # not on the roster
        (stranger.pk, "responder"),  # another community's member
        ("x", "responder"),
    ):
        with pytest.raises(ValidationError) as error:
            services.swap_request(
                requester=b,
                requester_week="2026-W46",
                responder_id=responder,
                responder_week="2026-W48",
            )
        assert _field(error) == {field}, responder
    # someone not on the roster cannot ask either
    with pytest.raises(ValidationError) as error:
        services.swap_request(
            requester=outsider,
            requester_week="2026-W46",
            responder_id=a.pk,
            responder_week="2026-W48",
        )
    assert _field(error) == {"roster"}
    assert _state(community) == before


def test_only_the_asked_moderator_answers_and_only_once(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)
    a, b, c = people[:3]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    before = _state(community)
    for responder in (a, b):
        with pytest.raises(ValidationError) as error:
            services.swap_answer(responder=responder, swap_id=swap.pk, accept=True)
        assert _field(error) == {"swap"}
    assert _state(community) == before
    services.swap_answer(responder=c, swap_id=swap.pk, accept=False)
    before = _state(community)
    with pytest.raises(ValidationError) as error:
        services.swap_answer(responder=c, swap_id=swap.pk, accept=True)
    assert _field(error) == {"swap"}
    assert _state(community) == before


def test_withdrawing_undoes_one_s_swaps_and_cancels_one_s_requests(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)
    a, b, c = people[:3]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    services.swap_answer(responder=c, swap_id=swap.pk, accept=True)
    waiting = services.swap_request(
        requester=a, requester_week="2026-W48", responder_id=b.pk, responder_week="2026-W47"
    )
    services.roster_leave(membership=b)
    assert not Override.objects.filter(community=community).exists()
    waiting.refresh_from_db()
    assert waiting.state == SwapRequest.State.CANCELLED
    assert who(community)[:4] == [a.pk, c.pk, a.pk, c.pk]


# --- Reminders --------------------------------------------------------------------------------


def test_the_reminder_is_sent_once_two_days_before_the_shift(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    community, people = _three_on_duty(time_machine)
    b = people[1]
    mailoutbox.clear()
    # Friday: too early for W46's reminder
    time_machine.move_to(at(datetime.date(2026, 11, 6), 23, 59))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(community=community) == 0
    assert not Notice.objects.filter(kind=Notice.Kind.SHIFT_SOON).exists()
    # Saturday: two days before; run twice
    time_machine.move_to(SATURDAY_W45)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(community=community) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(community=community) == 0
        services.rotation_tick(community=community)
    notice = Notice.objects.get(community=community, kind=Notice.Kind.SHIFT_SOON)
    assert (notice.recipient_id, notice.week, notice.data) == (b.pk, W46, {"week": "2026-W46"})
    assert notice.emailed_at is not None
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [b.user.email]
    assert message.subject == "[Community weekly] Your moderator shift begins soon (2026-W46)"
    assert "You are the moderator on duty in 2026-W46." in message.body
    assert f"/c/{community.slug}/duty/" in message.body


def test_the_shift_begins_notice_is_sent_once_when_the_week_is_fixed(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    community, people = _community(time_machine)
    a = people[0]
    sign_up([a])
    with django_capture_on_commit_callbacks(execute=True):
        services.rotation_tick(community=community)
    with django_capture_on_commit_callbacks(execute=True):
        services.rotation_tick(community=community)
        services.shifts_fix_through(community=community, week=W45)
    begins = Notice.objects.filter(community=community, kind=Notice.Kind.SHIFT_BEGINS)
    assert list(begins.values_list("recipient_id", "week")) == [(a.pk, W45)]
    assert [m.subject for m in mailoutbox] == [
        "[Community weekly] Your moderator shift begins now (2026-W45)"
    ]
    assert mailoutbox[0].to == [a.user.email]


def test_no_reminder_for_a_week_without_a_moderator(
    time_machine: time_machine.TimeMachineFixture, mailoutbox: list[Any]
) -> None:
    community, _people = _community(time_machine)
    time_machine.move_to(SATURDAY_W45)
    assert services.reminders_send(community=community) == 0
    assert not Notice.objects.filter(community=community).exists()
    assert mailoutbox == []


def test_the_reminder_is_written_in_the_recipient_s_language(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    community, people = _three_on_duty(time_machine)
    b = people[1]
    b.user.language = "zh-hans"
    b.user.save(update_fields=["language"])
    mailoutbox.clear()
    time_machine.move_to(SATURDAY_W45)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(community=community) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(community=community) == 0
    [message] = mailoutbox
    assert message.to == [b.user.email]
    assert message.subject == "[Community weekly] 你的版主值班即将开始（2026-W46）"
    assert message.body.count("你是 2026-W46 的值班版主。") == 1
    assert "You are the moderator on duty" not in message.body
    assert f"/c/{community.slug}/duty/" in message.body


def test_permanent_moderators_can_sign_up_too(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, _people = _community(time_machine)
    moderator = add_member(community, role=Membership.Role.MODERATOR)
    services.roster_join(membership=moderator)
    assert roster_ids(community) == [moderator.pk]
    assert weeks.label(services.published_weeks(community)[0].week) == "2026-W45"


def test_accepting_a_swap_the_schedule_has_outrun_is_refused(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c, d = people[:4]
    sign_up([a, b, c, d])
    services.rotation_tick(community=community)  # W45 a, W46 b, W47 c, W48 d
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=d.pk, responder_week="2026-W48"
    )
    services.roster_leave(membership=c)  # W47 d, W48 a: W48 is no longer d's
    pins = list(Override.objects.filter(community=community).values_list("week", "membership"))
    schedule = schedule_of(community)
    with pytest.raises(ValidationError) as error:
        services.swap_answer(responder=d, swap_id=swap.pk, accept=True)
    assert error.value.message_dict == {
        "swap": ["The schedule has changed since this was asked; ask again."]
    }
    assert (
        list(Override.objects.filter(community=community).values_list("week", "membership")) == pins
    )
    assert schedule_of(community) == schedule
    # the request is over (expired), so it no longer holds its weeks against a new one
    swap.refresh_from_db()
    assert swap.state == SwapRequest.State.EXPIRED
    again = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=a.pk, responder_week="2026-W48"
    )
    assert again.state == SwapRequest.State.PENDING


def test_a_week_before_the_rotation_began_has_no_moderator(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    sign_up(people[:2])
    services.rotation_tick(community=community)  # the rotation begins in W45
    assert services.shifts_fix_through(community=community, week=w(44)) is None
    assert services.moderator_of(community, w(44)) is None


def test_removing_the_moderator_on_duty_takes_the_powers_not_the_shift(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)
    a, b = people[:2]
    a.refresh_from_db()
    assert (a.on_duty_week, a.is_moderator) == (W45, True)
    services.roster_remove(organiser=organiser_of(community), membership=a, reason="absent")
    a.refresh_from_db()
    assert (a.on_duty_week, a.is_moderator) == (None, False)
    assert Shift.objects.get(community=community, week=W45).moderator_id == a.pk
    assert who(community)[:3] == [a.pk, b.pk, people[2].pk]


def test_a_lapsed_moderator_is_skipped_until_active_again(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)  # W46 b, W47 c, W48 a
    a, b, c = people[:3]
    set_status(b, Membership.Status.LAPSED)
    # b keeps their place but takes no turn while lapsed: nobody is fixed (or paid) for a
    # week in which they have no powers
    assert who(community)[:4] == [a.pk, c.pk, a.pk, c.pk]
    set_status(b, Membership.Status.ACTIVE)
    assert who(community)[:4] == [a.pk, b.pk, c.pk, a.pk]


def test_a_roster_change_that_moves_a_swap_s_turns_undoes_the_swap(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _community(time_machine)
    a, b, c, d = people[:4]
    sign_up([a, b, c, d])
    services.rotation_tick(community=community)  # W45 a, W46 b, W47 c, W48 d, W49 a
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=d.pk, responder_week="2026-W48"
    )
    services.swap_answer(responder=d, swap_id=swap.pk, accept=True)
    assert who(community)[:5] == [a.pk, d.pk, c.pk, b.pk, a.pk]
    # when c withdraws, the turns under the pins move (W46 b, W47 d, W48 a): left pinned, the
    # swap would take a's W48 and give d two weeks in a row
    services.roster_leave(membership=c)
    # then the swap is undone, both told, and the rotation runs in roster order again
    assert not Override.objects.filter(community=community).exists()
    assert who(community)[:5] == [a.pk, b.pk, d.pk, a.pk, b.pk]
    undone = Notice.objects.filter(community=community, kind=Notice.Kind.SWAP_UNDONE)
    assert sorted(undone.values_list("recipient_id", flat=True)) == sorted([b.pk, d.pk])


def test_a_swap_whose_turns_a_sign_up_leaves_alone_stands(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _three_on_duty(time_machine)  # W46 b, W47 c, W48 a
    a, b, c, d = people[:4]
    swap = services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    services.swap_answer(responder=c, swap_id=swap.pk, accept=True)
    services.roster_join(membership=d)  # joins the end, after c: W48 d, W49 a
    assert who(community)[:5] == [a.pk, c.pk, b.pk, d.pk, a.pk]
    assert Override.objects.filter(community=community).count() == 2
