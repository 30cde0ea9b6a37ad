"""The demo's moderator rotation for "product-circle" (SPEC §2.6).

Five members signed up to moderate when the community moved here (ROSTER, in order of
sign-up), before its first week was fixed. Every week since was fixed as it began — as the
beat job would have — so the past weeks' shifts went round the roster in order; their KPIs
and pay are computed by the week close (the pipeline's ``moderator_pay`` step), which
community/demo_weekly.py runs after this. The past weeks' answers get a few ratings, written
as rows dated in their week (the services refuse to write into a week that is over), so that
the shifts have a quality and most of them earn part of the week's operations budget.

The week the demo first runs in is the sixth after the first, so its shift is the second
sign-up's: ``alicec@demo.example`` (handle *quiet-fox*) is on duty, and their on-duty
console (``/c/product-circle/duty/``) has this week's questions with their invitations and
announcement and the briefs waiting (community/demo_questions.py). Next week's moderator has
asked them to swap shifts: a pending request for weeks to come.

Idempotent: a member already on the roster is not signed up again, a fixed week stays as it
is, ratings are found by rater, a closed week is left alone, and a new swap is asked only
when none is waiting (a request whose week has begun expires first). The rotation's notices
are marked as e-mailed before the transaction commits, so the demo sends no mail.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from community import weekly
from community.models import WeekPipeline
from members import weeks
from members.models import Community, Membership
from questions.models import Answer, Rating
from rotation import services as rotation
from rotation.models import Notice, RosterEntry, SwapRequest

WEEK = datetime.timedelta(days=7)
# The roster, in order of sign-up (account names).
ROSTER = ("xiaowen", "alicec", "haoran", "gracel", "siyuan")
# Who rates the past weeks' answers (an author never rates their own), and the stars of a
# week by weeks back (1: last week): a varied quality on the KPI chart.
RATERS = ("zeyu_li", "jiayi", "emmas", "danielo", "priyan", "oliviab", "junjie")
STARS: dict[int, tuple[int, ...]] = {
    5: (4, 5, 4),
    4: (3, 4, 3),
    3: (5, 4, 5),
    2: (2, 3, 3),
    1: (5, 5, 4),
}


def load(*, community: Community, members: dict[str, Membership], this_week: datetime.date) -> None:
    """Sign up the roster, rate the past weeks' answers, fix every week up to this one, and
    ask for a swap (see the module docstring). Call inside a transaction, before the past
    weeks are closed."""
    started = timezone.now()
    _sign_up(community, members)
    closed = set(
        WeekPipeline.objects.filter(community=community, state=WeekPipeline.State.DONE).values_list(
            "week", flat=True
        )
    )
    first = weekly.first_week(community)
    for back, stars in STARS.items():
        week = this_week - back * WEEK
        if week >= first and week not in closed:
            _rate(community, week, stars, members)
    # Each week fixed a minute after it began (the community's first week: once the roster
    # had signed up), as the beat job would have.
    week = first
    while week <= this_week:
        at = max(
            weeks.begins_at(community, week) + datetime.timedelta(minutes=1),
            community.created_at + datetime.timedelta(hours=2),
        )
        rotation.shifts_fix_through(community=community, week=week, now=at)
        week += WEEK
    _ask_swap(community, started)
    Notice.objects.filter(
        community=community, emailed_at__isnull=True, created_at__gte=started
    ).update(emailed_at=timezone.now())


def _sign_up(community: Community, members: dict[str, Membership]) -> None:
    """The roster signed up one after another, just after the community moved here."""
    on_roster = set(
        RosterEntry.objects.filter(community=community, left_at__isnull=True).values_list(
            "membership_id", flat=True
        )
    )
    if on_roster:
        return  # signed up on an earlier run (someone may have left since: leave it so)
    for k, username in enumerate(ROSTER):
        rotation.roster_join(
            membership=members[username],
            now=community.created_at + datetime.timedelta(minutes=20 * (k + 1)),
        )


def _rate(
    community: Community,
    week: datetime.date,
    stars: tuple[int, ...],
    members: dict[str, Membership],
) -> None:
    """Three ratings for each of the week's answers, dated on the day after it was written."""
    answers = Answer.objects.filter(
        question__community=community, question__session__week=week
    ).order_by("created_at", "pk")
    for i, answer in enumerate(answers):
        raters = [members[RATERS[(i + k) % len(RATERS)]] for k in range(4)]
        raters = [r for r in raters if r.pk != answer.author_id][:3]
        for k, rater in enumerate(raters):
            rating, created = Rating.objects.get_or_create(
                answer=answer, rater=rater, defaults={"stars": stars[(i + k) % len(stars)]}
            )
            if created:
                at = answer.created_at + datetime.timedelta(days=1, hours=k)
                Rating.objects.filter(pk=rating.pk).update(created_at=at, updated_at=at)


def _ask_swap(community: Community, now: datetime.datetime) -> None:
    """Next week's moderator asks this week's to swap: next week for a later shift of theirs."""
    rotation.swaps_expire(community=community, now=now)
    if SwapRequest.objects.filter(community=community, state=SwapRequest.State.PENDING).exists():
        return
    slots = rotation.published_weeks(community, now)
    if len(slots) < 2 or slots[1].membership_id is None:
        return
    on_duty, asker = slots[0].membership_id, slots[1]
    asker_id = asker.membership_id
    later = next(
        (s for s in slots[2:] if s.membership_id == on_duty and on_duty != asker_id),
        None,
    )
    if later is None or asker_id is None:
        return
    rotation.swap_request(
        requester=Membership.objects.select_related("community").get(pk=asker_id),
        requester_week=asker.week,
        responder_id=later.membership_id,
        responder_week=later.week,
        now=now,
    )
