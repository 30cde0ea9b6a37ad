"""Reads of the rotation, each at a fixed number of queries whatever the roster's size:
the roster and schedule, a moderator's shifts, the organiser's review, the on-duty console."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from members import privacy, weeks
from members.models import Community, Membership, Profile
from questions.models import Digest, Question
from rotation import services
from rotation.models import Notice, RosterEntry, Shift, SwapRequest


@dataclass(frozen=True)
class RosterRow:
    entry: RosterEntry
    position: int
    handle: str


@dataclass(frozen=True)
class ScheduleRow:
    week: datetime.date
    label: str
    membership_id: int | None
    handle: str | None
    fixed: bool
    pinned: bool
    is_current: bool


@dataclass
class Roster:
    community: Community
    rows: list[RosterRow]
    schedule: list[ScheduleRow]
    mine: RosterEntry | None = None
    incoming: list[SwapRequest] = field(default_factory=list)
    outgoing: list[SwapRequest] = field(default_factory=list)
    my_weeks: list[ScheduleRow] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    handles: dict[int, str] = field(default_factory=dict)


def _handles(ids: set[int]) -> dict[int, str]:
    """Handles (privacy.display_name: the handle in every phase) of these memberships."""
    return {
        p.membership_id: privacy.display_name(p)
        for p in Profile.objects.filter(membership_id__in=ids).only(
            "membership_id", "handle", "community_id"
        )
    }


def roster(
    *, community: Community, viewer: Membership | None = None, now: datetime.datetime | None = None
) -> Roster:
    """The roster in order, the published schedule, and — for a viewer — their place, their
    swaps waiting, their weeks to come and their past shifts."""
    now = now or timezone.now()
    current = weeks.start_of(community, now)
    entries = list(services.serving_entries(community).select_related("membership__profile"))
    slots = services.published_weeks(community, now)
    swaps: list[SwapRequest] = []
    if viewer is not None:
        swaps = list(
            SwapRequest.objects.filter(
                Q(requester=viewer) | Q(responder=viewer),
                community=community,
                state=SwapRequest.State.PENDING,
            )
        )
    known = {e.membership_id: privacy.display_name(e.membership.profile) for e in entries}
    wanted = {s.membership_id for s in slots if s.membership_id is not None}
    wanted |= {s.requester_id for s in swaps} | {s.responder_id for s in swaps}
    handles = known | _handles(wanted - set(known))
    for swap in swaps:  # for the page: who and which weeks, as written
        swap.requester_handle = handles.get(swap.requester_id, "")  # type: ignore[attr-defined]
        swap.responder_handle = handles.get(swap.responder_id, "")  # type: ignore[attr-defined]
        swap.requester_label = weeks.label(swap.requester_week)  # type: ignore[attr-defined]
        swap.responder_label = weeks.label(swap.responder_week)  # type: ignore[attr-defined]
    schedule = [
        ScheduleRow(
            week=s.week,
            label=weeks.label(s.week),
            membership_id=s.membership_id,
            handle=handles.get(s.membership_id) if s.membership_id else None,
            fixed=s.week <= current,
            pinned=s.pinned,
            is_current=s.week == current,
        )
        for s in slots
    ]
    result = Roster(
        community=community,
        rows=[
            RosterRow(entry=e, position=i, handle=known[e.membership_id])
            for i, e in enumerate(entries, start=1)
        ],
        schedule=schedule,
        handles=handles,
    )
    if viewer is not None:
        result.mine = next((e for e in entries if e.membership_id == viewer.pk), None)
        result.incoming = [s for s in swaps if s.responder_id == viewer.pk]
        result.outgoing = [s for s in swaps if s.requester_id == viewer.pk]
        result.my_weeks = [r for r in schedule if r.membership_id == viewer.pk and not r.fixed]
        result.shifts = list(
            Shift.objects.filter(community=community, moderator=viewer).order_by("-week")[:52]
        )
        result.notices = list(
            Notice.objects.filter(community=community, recipient=viewer).order_by(
                "-created_at", "-pk"
            )[:10]
        )
    return result


@dataclass(frozen=True)
class ShiftRow:
    shift: Shift
    label: str
    handle: str | None
    quality: float | None


def shift_rows(*, community: Community, limit: int = 52) -> list[ShiftRow]:
    """The latest fixed shifts with their moderators, KPIs and pay (organisers). Two queries."""
    shifts = list(
        Shift.objects.filter(community=community)
        .select_related("moderator__profile")
        .prefetch_related("adjustments")
        .order_by("-week")[:limit]
    )
    return [
        ShiftRow(
            shift=s,
            label=weeks.label(s.week),
            handle=privacy.display_name(s.moderator.profile) if s.moderator else None,
            quality=services.quality_display(s.rating_sum or 0, s.rating_count or 0)
            if s.is_computed
            else None,
        )
        for s in shifts
    ]


@dataclass(frozen=True)
class KpiChart:
    width: int
    height: int
    answerers: str  # "x,y x,y …" for <polyline points>
    quality: str
    first: str
    last: str
    top_answerers: int


def kpi_chart(rows: list[ShiftRow]) -> KpiChart | None:
    """Answerers and quality over the computed weeks, oldest first, as two polylines in a
    720×220 box (quality scaled to 0–5 on the same height)."""
    points = [r for r in reversed(rows) if r.shift.is_computed]
    if len(points) < 2:
        return None
    width, height, pad = 720, 220, 30
    top = max(max(r.shift.answerers or 0 for r in points), 1)
    step = (width - 2 * pad) / (len(points) - 1)

    def line(values: list[float], scale: float) -> str:
        return " ".join(
            f"{pad + i * step:.1f},{height - pad - v * (height - 2 * pad) / scale:.1f}"
            for i, v in enumerate(values)
        )

    return KpiChart(
        width=width,
        height=height,
        answerers=line([float(r.shift.answerers or 0) for r in points], float(top)),
        quality=line([r.quality or 0.0 for r in points], 5.0),
        first=points[0].label,
        last=points[-1].label,
        top_answerers=top,
    )


@dataclass
class Console:
    community: Community
    week: datetime.date
    label: str
    shift: Shift | None
    moderator_handle: str | None
    briefs: list[Question]
    questions: Sequence[Question]
    announcement: str
    kpis: dict[str, object]
    is_current: bool
    digest: Digest | None = None
    digest_due: datetime.datetime | None = None
    digests_waiting: list[Digest] = field(default_factory=list)


def console(*, community: Community, week: datetime.date) -> Console:
    """The duties of a week in order (SPEC §2.6): briefs to triage and schedule, the week's
    questions with their answers and invitations (finding answerers), the announcement, the
    KPIs so far. A fixed number of queries."""
    from questions.models import WeekSession

    shift = (
        Shift.objects.filter(community=community, week=week)
        .select_related("moderator__profile")
        .first()
    )
    handle = None
    if shift is not None and shift.moderator is not None:
        handle = privacy.display_name(shift.moderator.profile)
    elif shift is None:
        serving = services.moderator_of(community, week)
        handle = _handles({serving}).get(serving) if serving else None
    briefs = list(
        Question.objects.filter(community=community, state=Question.State.SUBMITTED)
        .select_related("asker__profile")
        .prefetch_related("needs")
        .order_by("submitted_at", "pk")[:50]
    )
    questions = list(
        Question.objects.filter(community=community, session__week=week)
        .exclude(state=Question.State.DRAFT)
        .select_related("asker__profile")
        .prefetch_related("needs")
        .annotate(
            answer_count=Count("answers", distinct=True),
            invitation_count=Count("invitations", distinct=True),
        )
        .order_by("pk")
    )
    session = WeekSession.objects.filter(community=community, week=week).first()
    figures = services.kpis_of(community, week)
    return Console(
        community=community,
        week=week,
        label=weeks.label(week),
        shift=shift,
        moderator_handle=handle,
        briefs=briefs,
        questions=questions,
        announcement=session.announcement if session else "",
        kpis={
            "answerers": figures["answerers"],
            "answers": figures["answers"],
            "quality": services.quality_display(figures["rating_sum"], figures["rating_count"]),
            "target_answerers": community.moderator_target_answerers,
            "target_quality": community.moderator_target_quality,
        },
        is_current=week == weeks.start_of(community),
        digest=Digest.objects.filter(community=community, week=week).first(),
        digest_due=weeks.ends_at(community, week)
        + datetime.timedelta(days=settings.DIGEST_DUE_DAYS),
        # Drafts of earlier weeks still to publish (the moderator of a week curates its
        # digest after it closes, while someone else is on duty).
        digests_waiting=list(
            Digest.objects.filter(
                community=community, state=Digest.State.DRAFT, week__lt=week
            ).order_by("-week")[:5]
        ),
    )
