"""The roster, the schedule and swaps of the moderator rotation (SPEC §2.6): signing up,
withdrawing and removal, fixing a week's shift when it begins, swaps, and reminders.

Roster and schedule changes lock the community's row first, so that a sign-up, a withdrawal,
a swap and the fixing of a week happen one after another.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members import outbox, weeks
from members import services as member_services
from members.access import READER_ROLES
from members.models import Community, Membership, User
from questions.models import Question
from rotation import schedule
from rotation.audit import Event
from rotation.models import Notice, Override, RosterEntry, Shift, SwapRequest

WEEK = schedule.WEEK
PUBLISHED = (Question.State.SCHEDULED, Question.State.OPEN, Question.State.CLOSED)


def horizon_weeks() -> int:
    """How many weeks after the current one the schedule is published."""
    return int(settings.ROTATION_SCHEDULE_WEEKS)


def _lock_community(community: Community) -> Community:
    return Community.objects.select_for_update().get(pk=community.pk)


def reason_text(value: object, field: str = "reason") -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError({field: _("Say why.")}, code="required")
    if len(text) > 500:
        raise ValidationError({field: _("Keep the reason under 500 characters.")}, code="long")
    return text


# --- The schedule -----------------------------------------------------------------------------


def serving_entries(community: Community) -> QuerySet[RosterEntry]:
    """The roster entries that take turns: not ended, of members who may moderate now
    (active, not candidates). A member who lapses keeps their place and is skipped until
    they are active again."""
    return RosterEntry.objects.filter(
        community=community,
        left_at__isnull=True,
        membership__status=Membership.Status.ACTIVE,
        membership__role__in=READER_ROLES,
    ).order_by("signed_up_at", "pk")


def active_entries(community: Community) -> list[RosterEntry]:
    return list(serving_entries(community))


def _entry(row: RosterEntry) -> schedule.Entry:
    return schedule.Entry(row.pk, row.membership_id, (row.signed_up_at, row.pk))


def _after(last: Shift | None) -> schedule.Position | None:
    """Where the rotation stood after the last fixed week: its turn's place in the roster
    (the turn of the latest fixed week that had one)."""
    if last is None:
        return None
    shift = (
        Shift.objects.filter(
            community_id=last.community_id, week__lte=last.week, turn__isnull=False
        )
        .select_related("turn")
        .order_by("-week")
        .first()
    )
    if shift is None or shift.turn is None:
        return None
    return (shift.turn.signed_up_at, shift.turn.pk)


def _pins(community: Community, start: datetime.date) -> dict[datetime.date, int]:
    return dict(
        Override.objects.filter(community=community, week__gte=start).values_list(
            "week", "membership_id"
        )
    )


def projection(
    community: Community,
    *,
    start: datetime.date,
    until: datetime.date,
    now: datetime.datetime | None = None,
    with_pins: bool = True,
) -> list[schedule.Slot]:
    """The weeks from ``start`` to ``until`` (first days; ``start`` after the last fixed
    shift) as the rotation would fill them now. A week that has begun without being fixed
    (the beat was not running) had nobody on duty: it gets no moderator and uses no turn, so
    nobody is named (and paid) for a week in which they had no powers. With no fixed shift
    yet, the rotation begins with the current week. Four queries."""
    last = Shift.objects.filter(community=community, week__lt=start).order_by("-week").first()
    current = weeks.start_of(community, now)
    first = last.week + WEEK if last is not None else min(start, current)
    if until < start or until < first:
        return []
    missed = []
    while first < current and first <= until:
        missed.append(schedule.Slot(first, None, None, False))
        first += WEEK
    slots = missed
    if first <= until:
        slots += schedule.project(
            roster=[_entry(e) for e in active_entries(community)],
            after=_after(last),
            pins=_pins(community, first) if with_pins else {},
            start=first,
            count=(until - first).days // 7 + 1,
        )
    return [slot for slot in slots if slot.week >= start]


def published_weeks(
    community: Community, now: datetime.datetime | None = None
) -> list[schedule.Slot]:
    """The schedule as published: this week (fixed, or as it will be fixed) and the
    ``horizon_weeks()`` after it."""
    current = weeks.start_of(community, now)
    until = current + horizon_weeks() * WEEK
    fixed = {
        s.week: s
        for s in Shift.objects.filter(community=community, week__gte=current, week__lte=until)
    }
    slots: list[schedule.Slot] = []
    week = current
    while week in fixed:
        shift = fixed[week]
        slots.append(schedule.Slot(week, shift.moderator_id, shift.turn_id, shift.pinned))
        week += WEEK
    return slots + projection(community, start=week, until=until, now=now)


def moderator_of(
    community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> int | None:
    """Who serves ``week`` (membership id): the fixed shift, or the projection for a week to
    come; nobody for a past week that was never fixed."""
    shift = Shift.objects.filter(community=community, week=week).first()
    if shift is not None:
        return shift.moderator_id
    if week < weeks.start_of(community, now):
        return None  # a past week that was never fixed had no moderator
    slots = projection(community, start=week, until=week, now=now)
    return slots[-1].membership_id if slots else None


def shifts_fix_through(
    *, community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> Shift | None:
    """Fix every week from the last fixed shift up to ``week`` (which has begun), in order,
    and return ``week``'s shift. Idempotent. A week before the rotation's first fixed week
    stays without a shift (None). The moderator of the current week is granted its powers
    (``Membership.on_duty_week``) and told that the shift begins."""
    now = now or timezone.now()
    if weeks.begins_at(community, week) > now:
        raise ValidationError({"week": _("That week has not begun yet.")}, code="not_begun")
    with transaction.atomic():
        community = _lock_community(community)
        found = Shift.objects.filter(community=community, week=week).first()
        if found is not None:
            return found
        last = Shift.objects.filter(community=community).order_by("-week").first()
        if last is not None and last.week > week:
            return None
        start = last.week + WEEK if last is not None else week
        slots = projection(community, start=start, until=week, now=now)
        shifts = Shift.objects.bulk_create(
            Shift(
                community=community,
                week=slot.week,
                moderator_id=slot.membership_id,
                turn_id=slot.turn_id,
                pinned=slot.pinned,
                fixed_at=now,
            )
            for slot in slots
        )
        current = weeks.start_of(community, now)
        for shift in shifts:
            if shift.moderator_id is None:
                continue
            Membership.objects.filter(pk=shift.moderator_id).update(on_duty_week=shift.week)
            if shift.week == current:
                _notice(community, shift.moderator_id, Notice.Kind.SHIFT_BEGINS, shift.week)
        return shifts[-1]


def _pins_check(community: Community, now: datetime.datetime) -> int:
    """After the roster changed: a swap's two pinned weeks stand only while the turns under
    them are still the two moderators who swapped; otherwise the roster change would have the
    pins take someone else's turn. Such a swap is undone (both weeks go back to the rotation)
    and both moderators are told. Returns how many swaps were undone."""
    current = weeks.start_of(community, now)
    pinned = list(
        Override.objects.filter(community=community, week__gt=current, swap__isnull=False)
        .select_related("swap")
        .order_by("week")
    )
    if not pinned:
        return 0
    underneath = {
        s.week: s.membership_id
        for s in projection(
            community, start=current + WEEK, until=pinned[-1].week, now=now, with_pins=False
        )
    }
    undone = 0
    for swap in {o.swap for o in pinned if o.swap is not None}:
        if (
            underneath.get(swap.requester_week) == swap.requester_id
            and underneath.get(swap.responder_week) == swap.responder_id
        ):
            continue
        Override.objects.filter(community=community, swap=swap, week__gt=current).delete()
        for recipient in (swap.requester_id, swap.responder_id):
            _notice(
                community,
                recipient,
                Notice.Kind.SWAP_UNDONE,
                swap.requester_week,
                {
                    "swap": swap.pk,
                    "requester_week": weeks.label(swap.requester_week),
                    "responder_week": weeks.label(swap.responder_week),
                },
            )
        undone += 1
    return undone


# --- The roster -------------------------------------------------------------------------------


def roster_join(*, membership: Membership, now: datetime.datetime | None = None) -> RosterEntry:
    """Sign up to moderate: active members only, at the end of the roster."""
    if not membership.is_writer:
        raise ValidationError(
            {"roster": _("Only active members can sign up to moderate.")}, code="not_member"
        )
    with transaction.atomic():
        community = _lock_community(membership.community)
        if RosterEntry.objects.filter(
            community=community, membership=membership, left_at__isnull=True
        ).exists():
            raise ValidationError(
                {"roster": _("You are on the roster already.")}, code="already_signed_up"
            )
        entry = RosterEntry.objects.create(
            community=community, membership=membership, signed_up_at=now or timezone.now()
        )
        _pins_check(community, entry.signed_up_at)
        member_services.audit(
            community=community,
            event=Event.ROSTER_JOINED,
            actor=membership.user,
            membership=membership,
            data={"entry": entry.pk},
        )
    return entry


def _leave(
    *,
    community: Community,
    membership: Membership,
    now: datetime.datetime,
    removed_by: User | None,
    reason: str,
) -> RosterEntry:
    entry = RosterEntry.objects.filter(
        community=community, membership=membership, left_at__isnull=True
    ).first()
    if entry is None:
        raise ValidationError(
            {
                "roster": _("%(handle)s is not on the roster.")
                % {"handle": membership.profile.handle}
            },
            code="not_on_roster",
        )
    entry.left_at, entry.removed_by, entry.removal_reason = now, removed_by, reason
    entry.save(update_fields=["left_at", "removed_by", "removal_reason"])
    # Their swaps of weeks to come are undone (both weeks go back to the rotation) and their
    # open requests are withdrawn: later shifts move up.
    current = weeks.start_of(community, now)
    swaps = SwapRequest.objects.filter(
        Q(requester=membership) | Q(responder=membership), community=community
    )
    Override.objects.filter(community=community, week__gt=current, swap__in=swaps).delete()
    Override.objects.filter(community=community, week__gt=current, membership=membership).delete()
    swaps.filter(state=SwapRequest.State.PENDING).update(
        state=SwapRequest.State.CANCELLED, decided_at=now
    )
    _pins_check(community, now)
    return entry


def roster_leave(*, membership: Membership, now: datetime.datetime | None = None) -> RosterEntry:
    """Withdraw from the roster. A shift already begun stays the member's."""
    now = now or timezone.now()
    with transaction.atomic():
        community = _lock_community(membership.community)
        entry = _leave(
            community=community, membership=membership, now=now, removed_by=None, reason=""
        )
        member_services.audit(
            community=community,
            event=Event.ROSTER_LEFT,
            actor=membership.user,
            membership=membership,
            data={"entry": entry.pk},
        )
    return entry


def roster_remove(
    *,
    organiser: Membership,
    membership: Membership,
    reason: object,
    now: datetime.datetime | None = None,
) -> RosterEntry:
    """An organiser takes a moderator off the roster, with a reason kept. They lose the
    powers of a shift under way at once (the shift, its KPIs and pay stay on record; the
    organiser may adjust the pay at the review)."""
    text = reason_text(reason)
    now = now or timezone.now()
    if membership.community_id != organiser.community_id:
        raise ValidationError({"member": _("No such member.")}, code="invalid")
    with transaction.atomic():
        community = _lock_community(membership.community)
        entry = _leave(
            community=community,
            membership=membership,
            now=now,
            removed_by=organiser.user,
            reason=text,
        )
        Membership.objects.filter(pk=membership.pk).update(on_duty_week=None)
        _notice(
            community,
            membership.pk,
            Notice.Kind.REMOVED,
            weeks.start_of(community, now),
            {"reason": text},
        )
        member_services.audit(
            community=community,
            event=Event.ROSTER_REMOVED,
            actor=organiser.user,
            membership=membership,
            data={"entry": entry.pk, "reason": text},
        )
    return entry


# --- Swaps ------------------------------------------------------------------------------------


def _future_week(
    community: Community, value: object, field: str, now: datetime.datetime
) -> datetime.date:
    if isinstance(value, datetime.date):
        week = value
        if not weeks.is_week_start(community, week):
            raise ValidationError({field: _("Choose a week.")}, code="invalid")
    else:
        try:
            week = weeks.parse(community, str(value or ""))
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}, code="invalid") from None
    current = weeks.start_of(community, now)
    if week <= current:
        raise ValidationError(
            {
                field: _("%(week)s has begun already: only shifts to come can be swapped.")
                % {"week": weeks.label(week)}
            },
            code="not_future",
        )
    if week > current + horizon_weeks() * WEEK:
        raise ValidationError(
            {field: _("%(week)s is beyond the published schedule.") % {"week": weeks.label(week)}},
            code="too_far",
        )
    return week


def _serving(slots: dict[datetime.date, int | None], week: datetime.date) -> int | None:
    return slots.get(week)


def swap_request(
    *,
    requester: Membership,
    requester_week: object,
    responder_id: object,
    responder_week: object,
    now: datetime.datetime | None = None,
) -> SwapRequest:
    """Ask another moderator to swap two shifts to come: ``requester_week`` is the asker's,
    ``responder_week`` the other's. Refused (400, nothing changed) for a week begun, a week
    not theirs, oneself, someone not on the roster, or a week already in an open request."""
    now = now or timezone.now()
    community = requester.community
    mine = _future_week(community, requester_week, "requester_week", now)
    theirs = _future_week(community, responder_week, "responder_week", now)
    try:
        responder = Membership.objects.select_related("profile", "user").get(
            community=community, pk=int(str(responder_id))
        )
    except (ValueError, Membership.DoesNotExist):
        raise ValidationError({"responder": _("No such moderator.")}, code="invalid") from None
    if responder.pk == requester.pk:
        raise ValidationError({"responder": _("You cannot swap with yourself.")}, code="self")
    with transaction.atomic():
        community = _lock_community(community)
        on_roster = set(
            RosterEntry.objects.filter(
                community=community, left_at__isnull=True, membership__in=[requester, responder]
            ).values_list("membership_id", flat=True)
        )
        if requester.pk not in on_roster:
            raise ValidationError({"roster": _("You are not on the roster.")}, code="not_on_roster")
        if responder.pk not in on_roster:
            raise ValidationError(
                {
                    "responder": _("%(handle)s is not a moderator on the roster.")
                    % {"handle": responder.profile.handle}
                },
                code="not_on_roster",
            )
        slots = {s.week: s.membership_id for s in published_weeks(community, now)}
        if _serving(slots, mine) != requester.pk:
            raise ValidationError(
                {"requester_week": _("%(week)s is not your shift.") % {"week": weeks.label(mine)}},
                code="not_yours",
            )
        if _serving(slots, theirs) != responder.pk:
            raise ValidationError(
                {
                    "responder_week": _("%(week)s is not %(handle)s's shift.")
                    % {"week": weeks.label(theirs), "handle": responder.profile.handle}
                },
                code="not_theirs",
            )
        both = [mine, theirs]
        if SwapRequest.objects.filter(
            Q(requester_week__in=both) | Q(responder_week__in=both),
            community=community,
            state=SwapRequest.State.PENDING,
        ).exists():
            raise ValidationError(
                {"swap": _("One of these weeks is already in a swap waiting for an answer.")},
                code="overlap",
            )
        swap = SwapRequest.objects.create(
            community=community,
            requester=requester,
            requester_week=mine,
            responder=responder,
            responder_week=theirs,
            created_at=now,
        )
        _notice(
            community, responder.pk, Notice.Kind.SWAP_ASKED, theirs, _swap_data(swap, requester)
        )
    return swap


def _swap_data(swap: SwapRequest, other: Membership) -> dict[str, object]:
    return {
        "swap": swap.pk,
        "handle": other.profile.handle,
        "requester_week": weeks.label(swap.requester_week),
        "responder_week": weeks.label(swap.responder_week),
    }


def _expired(swap: SwapRequest, community: Community, now: datetime.datetime) -> bool:
    current = weeks.start_of(community, now)
    return min(swap.requester_week, swap.responder_week) <= current


def swap_answer(
    *,
    responder: Membership,
    swap_id: object,
    accept: bool,
    now: datetime.datetime | None = None,
) -> SwapRequest:
    """The asked moderator accepts (both weeks are pinned, swapped) or declines."""
    now = now or timezone.now()
    with transaction.atomic():
        community = _lock_community(responder.community)
        swap = _swap_for(community, swap_id)
        if swap.responder_id != responder.pk:
            raise ValidationError(
                {"swap": _("This request is not addressed to you.")}, code="not_yours"
            )
        if swap.state != SwapRequest.State.PENDING:
            raise _not_pending(swap)
        refusal = None
        if _expired(swap, community, now):
            refusal = _not_pending(_expire(swap, now))
        elif accept and not _still_theirs(community, swap, now):
            # The roster changed since it was asked: it can no longer be accepted, and it no
            # longer holds its two weeks against other requests.
            _expire(swap, now)
            refusal = ValidationError(
                {"swap": _("The schedule has changed since this was asked; ask again.")},
                code="stale",
            )
        else:
            _swap_decide(community, swap, responder, accept, now)
    if refusal is not None:  # recorded (committed above), then refused
        raise refusal
    return swap


def _expire(swap: SwapRequest, now: datetime.datetime) -> SwapRequest:
    swap.state, swap.decided_at = SwapRequest.State.EXPIRED, now
    swap.save(update_fields=["state", "decided_at"])
    return swap


def _still_theirs(community: Community, swap: SwapRequest, now: datetime.datetime) -> bool:
    slots = {s.week: s.membership_id for s in published_weeks(community, now)}
    return (
        _serving(slots, swap.requester_week) == swap.requester_id
        and _serving(slots, swap.responder_week) == swap.responder_id
    )


def _swap_decide(
    community: Community,
    swap: SwapRequest,
    responder: Membership,
    accept: bool,
    now: datetime.datetime,
) -> None:
    requester = Membership.objects.select_related("profile").get(pk=swap.requester_id)
    if accept:
        for week, membership_id in (
            (swap.requester_week, swap.responder_id),
            (swap.responder_week, swap.requester_id),
        ):
            Override.objects.update_or_create(
                community=community,
                week=week,
                defaults={"membership_id": membership_id, "swap": swap},
            )
    swap.state = SwapRequest.State.ACCEPTED if accept else SwapRequest.State.DECLINED
    swap.decided_at = now
    swap.save(update_fields=["state", "decided_at"])
    kind = Notice.Kind.SWAP_ACCEPTED if accept else Notice.Kind.SWAP_DECLINED
    _notice(community, swap.requester_id, kind, swap.requester_week, _swap_data(swap, responder))
    if accept:
        member_services.audit(
            community=community,
            event=Event.SHIFTS_SWAPPED,
            actor=responder.user,
            membership=requester,
            data={
                "swap": swap.pk,
                "weeks": [weeks.label(swap.requester_week), weeks.label(swap.responder_week)],
            },
        )


def swap_cancel(
    *, requester: Membership, swap_id: object, now: datetime.datetime | None = None
) -> SwapRequest:
    now = now or timezone.now()
    with transaction.atomic():
        community = _lock_community(requester.community)
        swap = _swap_for(community, swap_id)
        if swap.requester_id != requester.pk:
            raise ValidationError({"swap": _("Only who asked can cancel it.")}, code="not_yours")
        if swap.state != SwapRequest.State.PENDING:
            raise _not_pending(swap)
        # A request whose week has begun has expired (whoever asks), not been cancelled.
        swap.state = (
            SwapRequest.State.EXPIRED
            if _expired(swap, community, now)
            else SwapRequest.State.CANCELLED
        )
        swap.decided_at = now
        swap.save(update_fields=["state", "decided_at"])
    return swap


def _swap_for(community: Community, swap_id: object) -> SwapRequest:
    try:
        return SwapRequest.objects.get(community=community, pk=int(str(swap_id)))
    except (ValueError, SwapRequest.DoesNotExist):
        raise ValidationError({"swap": _("No such swap request.")}, code="invalid") from None


def _not_pending(swap: SwapRequest) -> ValidationError:
    if swap.state == SwapRequest.State.EXPIRED:
        message = _("This request has expired: one of its weeks has begun.")
    else:
        message = _("This request was answered already (%(state)s).") % {
            "state": swap.get_state_display()
        }
    return ValidationError({"swap": message}, code=swap.state)


def swaps_expire(*, community: Community, now: datetime.datetime | None = None) -> int:
    """Requests whose either week has begun expire."""
    now = now or timezone.now()
    current = weeks.start_of(community, now)
    return SwapRequest.objects.filter(
        Q(requester_week__lte=current) | Q(responder_week__lte=current),
        community=community,
        state=SwapRequest.State.PENDING,
    ).update(state=SwapRequest.State.EXPIRED, decided_at=now)


# --- Notices and reminders --------------------------------------------------------------------


def _notice(
    community: Community,
    recipient_id: int,
    kind: str,
    week: datetime.date,
    data: dict[str, object] | None = None,
) -> Notice | None:
    """Record a notice and e-mail it after the commit; a reminder already recorded for that
    person, week and kind is not recorded (nor sent) again."""
    from rotation import tasks

    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                community=community,
                recipient_id=recipient_id,
                kind=kind,
                week=week,
                data={"week": weeks.label(week), **(data or {})},
            )
            outbox.enqueue(tasks.send_notice_email, notice.pk)
    except IntegrityError:
        return None
    return notice


def reminders_send(*, community: Community, now: datetime.datetime | None = None) -> int:
    """Remind next week's moderator ``ROTATION_REMINDER_DAYS`` before the shift begins;
    once per person and week."""
    now = now or timezone.now()
    upcoming = weeks.start_of(community, now) + WEEK
    if now < weeks.begins_at(community, upcoming) - datetime.timedelta(
        days=settings.ROTATION_REMINDER_DAYS
    ):
        return 0
    moderator = moderator_of(community, upcoming, now)
    if moderator is None:
        return 0
    with transaction.atomic():
        sent = _notice(community, moderator, Notice.Kind.SHIFT_SOON, upcoming)
    return int(sent is not None)


def rotation_tick(*, community: Community, now: datetime.datetime | None = None) -> None:
    """Beat, per community: fix the week that has begun, expire stale swaps, remind."""
    now = now or timezone.now()
    shifts_fix_through(community=community, week=weeks.start_of(community, now), now=now)
    swaps_expire(community=community, now=now)
    reminders_send(community=community, now=now)
