"""The week close: one pipeline per community and week, of the apps' steps in a fixed order
(SPEC §2.5, CONVENTIONS.md "The week close").

    close the week's questions → freeze the ballot → rank and award → challenge entries →
    moderator pay (slot) → rollover → digest draft (slot) → notifications

Each step is an app's service, called with the community and the week; each runs in its own
short transaction with its ``WeekPipelineStep`` row locked, and is recorded done in that same
transaction. A second run (or a second worker) finds the step done and skips it; a step that
raises is rolled back, recorded as failed with its error, and stops the run — the next run
resumes from it. A slot no capability fills yet is recorded skipped when the pipeline is
made. The services are idempotent on their own too (ledger idempotency keys, unique rows),
so even a crash between a step's work and its record pays nobody twice.

Weeks close in order: a week closes only once the week before it is closed (its rollover
flows into this one), starting from the community's first week (the week it was created
in). ``weeks_dispatch`` (Celery beat, every few minutes) finds, for every community, the
earliest week that has ended and is not closed, in the community's own time zone, and
queues one ``week_close`` task per community, so the work spreads over the workers.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import WeekPipeline, WeekPipelineStep
from members import outbox, weeks
from members.models import Community
from questions import lifecycle
from questions import services as question_services
from questions import votes as question_votes
from questions.digests import services as digest_services
from rewards import weekly as reward_steps
from rotation import services as rotation_services
from rotation.models import Shift

logger = logging.getLogger(__name__)

WEEK = datetime.timedelta(days=7)
# A queued or running close not finished after this long is queued again (a lost task).
REQUEUE_AFTER = datetime.timedelta(minutes=15)

StepService = Callable[..., object]


def digest_draft(*, community: Community, week: datetime.date) -> object:
    """The digest step: what rewards and rotation know of the closed week (votes, winners,
    the fund statement, the moderator's KPIs), handed to the digest's draft. Idempotent: a
    digest already drafted is left as it is."""
    from rewards.models import Prize, WeekClose

    close = WeekClose.objects.filter(community=community, week=week).first()
    winners: list[digest_services.Winner] = []
    fund: dict[str, int | None] = {}
    if close is not None:
        winners = [
            digest_services.Winner(place=p.place, answer_id=p.answer_id, amount=p.amount)
            for p in Prize.objects.filter(week_close=close, voided_at__isnull=True).order_by(
                "place"
            )
        ]
        fund = {
            "reward_budget": close.reward_budget,
            "operations_budget": close.operations_budget,
            "reward_paid": close.reward_paid,
            "operations_paid": close.operations_paid,
            "reward_rollover_out": close.reward_rollover_out,
            "operations_rollover_out": close.operations_rollover_out,
            "ballot_votes": close.ballot_votes,
            "ballot_voters": close.ballot_voters,
        }
    shift = Shift.objects.filter(community=community, week=week).first()
    kpis = None
    if shift is not None and shift.is_computed:
        kpis = {
            "answerers": shift.answerers,
            "answers": shift.answers,
            "quality": rotation_services.quality_display(
                shift.rating_sum or 0, shift.rating_count or 0
            ),
            "target_answerers": shift.target_answerers,
            "target_quality": float(shift.target_quality or 0),
            "pay": shift.pay_at_close,
        }
    facts = digest_services.CloseFacts(
        votes=question_votes.tallies(community=community, week=week),
        winners=winners,
        fund=fund,
        kpis=kpis,
        moderator_id=shift.moderator_id if shift is not None else None,
    )
    return digest_services.digest_draft(community=community, week=week, facts=facts)


@dataclass(frozen=True)
class Step:
    name: str
    service: StepService | None  # None: a slot another capability fills


STEPS: tuple[Step, ...] = (
    Step("close_questions", question_services.week_questions_close),
    Step("freeze_ballot", reward_steps.ballot_freeze),
    Step("rank_and_award", reward_steps.prizes_award),
    Step("challenge_entries", reward_steps.challenge_entries),
    Step("moderator_pay", rotation_services.moderator_pay),
    Step("rollover", reward_steps.rollover),
    Step("digest_draft", digest_draft),
    Step("notifications", reward_steps.results_notify),
)


class WeekCloseError(Exception):
    """A step failed; the pipeline stopped there and will resume from it."""


def first_week(community: Community) -> datetime.date:
    """The community's first week: the one it was created in."""
    return weeks.start_of(community, community.created_at)


def last_ended_week(community: Community, now: datetime.datetime | None = None) -> datetime.date:
    return weeks.start_of(community, now) - WEEK


def is_closed(community: Community, week: datetime.date) -> bool:
    return WeekPipeline.objects.filter(
        community=community, week=week, state=WeekPipeline.State.DONE
    ).exists()


def check_closable(
    community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> None:
    """ValidationError (naming ``week``) unless the week can be closed now: it has ended, it
    is not before the community's first week, and the week before it is closed."""
    label = weeks.label(week)
    if not weeks.is_week_start(community, week):
        raise ValidationError({"week": _("That is not one of this community's weeks.")})
    if not lifecycle.has_ended(community, week, now):
        raise ValidationError(
            {"week": _("%(week)s has not ended yet: it ends at %(at)s.")
             % {"week": label, "at": timezone.localtime(weeks.ends_at(community, week))}},
            code="not_ended",
        )  # fmt: skip
    if week < first_week(community):
        raise ValidationError(
            {"week": _("%(week)s is before this community began.") % {"week": label}},
            code="before_start",
        )
    if week > first_week(community) and not is_closed(community, week - WEEK):
        raise ValidationError(
            {"week": _("Close %(previous)s first: weeks close in order.")
             % {"previous": weeks.label(week - WEEK)}},
            code="out_of_order",
        )  # fmt: skip


FINISHED = (WeekPipelineStep.State.DONE, WeekPipelineStep.State.SKIPPED)


def _pipeline(
    community: Community, week: datetime.date, found: WeekPipeline | None
) -> tuple[WeekPipeline, dict[str, tuple[int, str]]]:
    """The week's pipeline (``found``, or made now) with its steps' rows, made if missing:
    ``{step: (row id, state)}``. Slots are made skipped: they have nothing to do."""
    pipeline = found
    if pipeline is None:
        pipeline, _created = WeekPipeline.objects.get_or_create(community=community, week=week)
    WeekPipelineStep.objects.bulk_create(
        [
            WeekPipelineStep(
                pipeline=pipeline,
                step=s.name,
                position=i,
                state=WeekPipelineStep.State.PENDING
                if s.service is not None
                else WeekPipelineStep.State.SKIPPED,
            )
            for i, s in enumerate(STEPS)
        ],
        ignore_conflicts=True,
    )
    rows = WeekPipelineStep.objects.filter(pipeline=pipeline).values_list("step", "pk", "state")
    return pipeline, {step: (pk, state) for step, pk, state in rows}


def _run_step(row_id: int, step: Step, community: Community, week: datetime.date) -> None:
    """Run one step in a transaction of its own, its row locked from the first statement (the
    UPDATE counting the attempt) to the commit that records it done. A step done meanwhile by
    another worker is not run again. A step that raises is rolled back, then recorded failed
    (with the attempt) in a transaction of its own."""
    row = WeekPipelineStep.objects.filter(pk=row_id).exclude(state__in=FINISHED)
    began = timezone.now()
    try:
        with transaction.atomic():
            if not row.update(attempts=F("attempts") + 1, started_at=began):
                return  # done by another worker meanwhile
            if step.service is not None:
                step.service(community=community, week=week)
            row.update(
                state=WeekPipelineStep.State.DONE
                if step.service is not None
                else WeekPipelineStep.State.SKIPPED,
                error="",
                finished_at=timezone.now(),
            )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:4000]
        row.update(
            state=WeekPipelineStep.State.FAILED,
            error=error,
            attempts=F("attempts") + 1,
            started_at=began,
            finished_at=timezone.now(),
        )
        raise WeekCloseError(f"{step.name}: {error}") from exc


def week_close(
    *, community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> WeekPipeline:
    """Run (or resume) the close of ``community``'s ``week``. Raises ValidationError when the
    week cannot be closed (nothing changes), WeekCloseError when a step fails (the steps
    before it stay done; the next run resumes from it)."""
    found = WeekPipeline.objects.filter(community=community, week=week).first()
    if found is not None and found.state == WeekPipeline.State.DONE:
        return found
    check_closable(community, week, now)
    pipeline, rows = _pipeline(community, week, found)
    started = timezone.now()
    WeekPipeline.objects.filter(pk=pipeline.pk).update(
        state=WeekPipeline.State.RUNNING, started_at=started, error=""
    )
    try:
        for step in STEPS:
            row_id, state = rows[step.name]
            if state not in FINISHED:
                _run_step(row_id, step, community, pipeline.week)
    except WeekCloseError as exc:
        WeekPipeline.objects.filter(pk=pipeline.pk).update(
            state=WeekPipeline.State.FAILED, error=str(exc)[:4000], finished_at=timezone.now()
        )
        logger.warning("Closing %s %s failed: %s", community.slug, weeks.label(week), exc)
        raise
    finished = timezone.now()
    WeekPipeline.objects.filter(pk=pipeline.pk).update(
        state=WeekPipeline.State.DONE, error="", finished_at=finished
    )
    pipeline.state, pipeline.error = WeekPipeline.State.DONE, ""
    pipeline.started_at, pipeline.finished_at = started, finished
    return pipeline


def weeks_to_close(
    community: Community, until: datetime.date, now: datetime.datetime | None = None
) -> list[datetime.date]:
    """The weeks not yet closed from the community's first week up to ``until``, in order."""
    done = set(
        WeekPipeline.objects.filter(
            community=community, state=WeekPipeline.State.DONE, week__lte=until
        ).values_list("week", flat=True)
    )
    week, pending = first_week(community), []
    while week <= until:
        if week not in done:
            pending.append(week)
        week += WEEK
    return pending


def close_through(
    *, community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> list[WeekPipeline]:
    """Close every week not yet closed up to and including ``week``, in order (what the
    ``close_week`` command does). Refuses, changing nothing, a week that has not ended or
    comes before the community began."""
    if not weeks.is_week_start(community, week):
        raise ValidationError({"week": _("That is not one of this community's weeks.")})
    if not lifecycle.has_ended(community, week, now) or week < first_week(community):
        check_closable(community, week, now)  # raises, saying why
    return [
        week_close(community=community, week=w, now=now) for w in weeks_to_close(community, week)
    ]


def next_to_close(
    community: Community, last_done: datetime.date | None, now: datetime.datetime | None = None
) -> datetime.date | None:
    """The week the dispatcher should close next for ``community`` (None: none has ended)."""
    week = last_done + WEEK if last_done is not None else first_week(community)
    return week if lifecycle.has_ended(community, week, now) else None


def weeks_dispatch(*, now: datetime.datetime | None = None) -> int:
    """Beat: queue one close per community whose next week to close has ended in its own
    time zone (skipping closes queued or running less than REQUEUE_AFTER ago). Returns how
    many were queued."""
    from community import tasks

    now = now or timezone.now()
    last_done = dict(
        WeekPipeline.objects.filter(state=WeekPipeline.State.DONE)
        .values("community")
        .annotate(last=Max("week"))
        .values_list("community", "last")
    )
    # Queued or running a moment ago (or failed a moment ago: tried again a little later).
    busy = set(
        WeekPipeline.objects.filter(
            Q(
                state__in=[WeekPipeline.State.QUEUED, WeekPipeline.State.RUNNING],
                queued_at__gt=now - REQUEUE_AFTER,
            )
            | Q(state=WeekPipeline.State.FAILED, finished_at__gt=now - REQUEUE_AFTER)
        ).values_list("community", "week")
    )
    queued = []
    for community in Community.objects.only(
        "pk", "time_zone", "week_start", "created_at", "voting_opens_weekday", "voting_opens_time"
    ).order_by("pk"):
        week = next_to_close(community, last_done.get(community.pk), now)
        if week is None or (community.pk, week) in busy:
            continue
        queued.append((community.pk, week))
    if not queued:
        return 0
    WeekPipeline.objects.bulk_create(
        [WeekPipeline(community_id=pk, week=week) for pk, week in queued], ignore_conflicts=True
    )
    by_week: dict[datetime.date, list[int]] = defaultdict(list)
    for pk, week in queued:
        by_week[week].append(pk)
    for week, pks in by_week.items():  # one UPDATE a week (most communities close the same)
        WeekPipeline.objects.filter(community_id__in=pks, week=week).exclude(
            state=WeekPipeline.State.DONE
        ).update(queued_at=now, state=WeekPipeline.State.QUEUED)
    for pk, week in queued:
        tasks.week_close.delay(pk, week.isoformat())
    return len(queued)


def week_close_task_body(community_id: int, week: str) -> None:
    """The task's body: close the week, then queue the next one if it has ended too (a
    community catching up closes its weeks one after another, in order)."""
    from community import tasks

    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        return
    start = datetime.date.fromisoformat(week)
    try:
        week_close(community=community, week=start)
    except ValidationError as exc:
        logger.info("Not closing %s %s: %s", community.slug, week, " ".join(exc.messages))
        return
    following = start + WEEK
    if lifecycle.has_ended(community, following) and not is_closed(community, following):
        with transaction.atomic(savepoint=False):
            WeekPipeline.objects.get_or_create(
                community=community,
                week=following,
                defaults={"queued_at": timezone.now()},
            )
            outbox.enqueue(tasks.week_close, community.pk, following.isoformat())
