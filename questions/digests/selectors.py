"""Reading digests: the archive and one digest as a viewer may see it, each in a fixed
number of queries. People are named through members.privacy (handles, in every phase)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from members import access as member_access
from members import privacy
from members.models import Community, Membership, Profile
from questions.digests import access
from questions.digests.models import Digest, DigestItem, DigestSubscription
from questions.models import Answer, Question


@dataclass(frozen=True)
class ItemView:
    item: DigestItem
    answer: Answer
    author: str  # through members.privacy
    place: int | None  # the answer's place among the week's winners
    prize: int | None


@dataclass
class QuestionView:
    question: Question
    items: list[ItemView] = field(default_factory=list)


@dataclass(frozen=True)
class WinnerView:
    place: int
    author: str
    amount: int
    question: Question
    answer_id: int


@dataclass(frozen=True)
class DigestView:
    digest: Digest
    community: Community
    sections: list[QuestionView]
    winners: list[WinnerView]
    fund: dict[str, Any]
    kpis: dict[str, Any] | None
    moderator: str | None
    next_week: list[Question]
    challenges_only: bool
    curating: bool  # every item, hidden ones too, for the curation form

    @property
    def currency(self) -> str:
        return str(self.digest.content.get("currency") or self.community.currency)

    @property
    def show_summary(self) -> bool:
        return not self.challenges_only


def archive(*, viewer: Membership, community: Community) -> QuerySet[Digest]:
    """Published digests, newest first; with the drafts of the weeks the viewer may curate.
    Candidates: only digests with a challenge question."""
    qs = Digest.objects.filter(community=community).order_by("-week")
    if access.challenges_only(viewer):
        challenge_ids = Question.objects.filter(community=community, is_challenge=True).values("pk")
        return qs.filter(
            state=Digest.State.PUBLISHED, items__answer__question__in=challenge_ids
        ).distinct()
    if member_access.is_organiser(viewer):
        return qs
    published = qs.filter(state=Digest.State.PUBLISHED)
    if member_access.is_writer(viewer):  # the drafts of their weeks (access.may_curate)
        return published | qs.filter(moderator=viewer)
    return published


def digest_view(*, digest: Digest, viewer: Membership | None, curating: bool = False) -> DigestView:
    """The digest as ``viewer`` reads it (a member's view when ``viewer`` is None: e-mails,
    the feed, previews): the visible answers grouped by question in the curated order, the
    winners, the fund statement, the KPIs and next week's questions. Five queries."""
    community = digest.community
    only_challenges = access.challenges_only(viewer)
    items = DigestItem.objects.filter(digest=digest).select_related(
        "answer__author__profile", "answer__question"
    )
    if not curating:
        items = items.filter(hidden=False)
    if only_challenges:
        items = items.filter(answer__question__is_challenge=True)
    content = digest.content or {}
    prizes = {w["answer"]: (w["place"], w["amount"]) for w in content.get("winners", [])}
    sections: dict[int, QuestionView] = {}
    for item in items.order_by("position", "pk"):
        answer = item.answer
        place, prize = prizes.get(answer.pk, (None, None))
        section = sections.setdefault(answer.question_id, QuestionView(question=answer.question))
        section.items.append(
            ItemView(
                item=item,
                answer=answer,
                author=privacy.display_name(answer.author.profile),
                place=place,
                prize=prize,
            )
        )
    winner_answers = {
        a.pk: a
        for a in Answer.objects.filter(pk__in=list(prizes)).select_related(
            "author__profile", "question"
        )
    }
    winners = [
        WinnerView(
            place=place,
            author=privacy.display_name(winner_answers[pk].author.profile),
            amount=amount,
            question=winner_answers[pk].question,
            answer_id=pk,
        )
        for pk, (place, amount) in sorted(prizes.items(), key=lambda kv: kv[1][0])
        if pk in winner_answers
        and (not only_challenges or winner_answers[pk].question.is_challenge)
    ]
    next_ids = content.get("next_week", [])
    next_qs = Question.objects.filter(pk__in=next_ids, community=community)
    if only_challenges:
        next_qs = next_qs.filter(is_challenge=True)
    order = {pk: i for i, pk in enumerate(next_ids)}
    next_week = sorted(next_qs, key=lambda q: order.get(q.pk, 0))
    moderator = None
    if digest.moderator_id is not None:
        profile = Profile.objects.filter(membership_id=digest.moderator_id).first()
        moderator = privacy.display_name(profile) if profile is not None else None
    return DigestView(
        digest=digest,
        community=community,
        sections=list(sections.values()),
        winners=winners,
        fund=dict(content.get("fund") or {}),
        kpis=None if only_challenges else content.get("kpis"),
        moderator=moderator,
        next_week=next_week,
        challenges_only=only_challenges,
        curating=curating,
    )


def subscription(*, membership: Membership) -> DigestSubscription | None:
    return DigestSubscription.objects.filter(membership=membership).first()


def subscriptions_of_user(*, user: Any) -> list[tuple[Membership, bool]]:
    """The user's memberships that may read the digests (access.may_read_archive), by
    community name, each with whether its digest e-mails are on (no row: on). One query."""
    emails_off = DigestSubscription.objects.filter(membership=OuterRef("pk"), emails=False)
    rows = (
        Membership.objects.filter(user_id=user.pk)
        .select_related("community")
        .annotate(digest_off=Exists(emails_off))
        .order_by("community__name", "pk")
    )
    return [(m, not m.digest_off) for m in rows if access.may_read_archive(m)]


def published_for_feed(*, community: Community, limit: int = 20) -> list[Digest]:
    return list(
        Digest.objects.filter(community=community, state=Digest.State.PUBLISHED)
        .select_related("community")
        .order_by("-published_at")[:limit]
    )
