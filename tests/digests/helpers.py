"""Builders shared by the digest's tests: a funded community whose 2026-W45 has a moderator
on shift (a plain member on the roster), two questions with four answers each, a ballot cast
(weekly_helpers.voted_week's votes), a question scheduled into W46, and the clock moved just
after W45 ended. ``closed_world`` also closes the week (the pipeline drafts the digest) with
the on-commit callbacks run, as they are in production."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import time_machine
from django.test import Client
from rest_framework.test import APIClient

from community import weekly
from members.models import Community, Membership, Profile
from questions import services as question_services
from questions.digests import services as digest_services
from questions.digests.models import Digest, DigestItem
from questions.models import Answer, Question
from rotation import services as rotation_services
from tests.factories import add_member, make_community, organiser_of, set_status
from tests.questions.helpers import brief
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    FRIDAY_W45,
    W45,
    WEEK,
    funded_community,
    questions_with_answers,
    vote,
)
from tests.rotation.helpers import sign_up

W46 = W45 + WEEK
LABEL = "2026-W45"
Capture = Callable[..., AbstractContextManager[Any]]


@dataclass
class World:
    community: Community
    people: list[Membership]
    questions: list[Question]
    answers: list[Answer]
    moderator: Membership  # the week's moderator (a plain member on the roster)
    next_week: Question  # scheduled into W46

    @property
    def organiser(self) -> Membership:
        return organiser_of(self.community)

    @property
    def member(self) -> Membership:
        """A plain member with no part in the digest."""
        return self.people[30]

    @property
    def slug(self) -> str:
        return self.community.slug

    def digest(self) -> Digest:
        return Digest.objects.select_related("community").get(community=self.community, week=W45)

    def items(self) -> list[DigestItem]:
        return list(DigestItem.objects.filter(digest__community=self.community, digest__week=W45))


def world(
    traveller: time_machine.Coordinates,
    *,
    members: int = 52,
    slug: str = "digest",
    growth: bool = False,
) -> World:
    """W45 voted, not closed (the clock just after it ended). Votes: answer 2 three, answers 0
    and 5 two each (0 is earlier), answer 7 one, the others none."""
    community, people = funded_community(traveller, members=members, slug=slug)
    if growth:
        Community.objects.filter(pk=community.pk).update(phase=Community.Phase.GROWTH)
        community.refresh_from_db()
    moderator = people[3]
    sign_up([moderator])
    rotation_services.rotation_tick(community=community)  # W45's shift: moderator
    week = questions_with_answers(community, people, questions=2, answers=4)
    following = brief(people[2], title="Next week's question about pricing")
    question_services.question_schedule(
        moderator=organiser_of(community), question=following, week=W46
    )
    traveller.move_to(FRIDAY_W45)
    a = week.answers
    voters = people[40:52]
    vote(voters[0:3], a[2])
    vote(voters[3:5], a[5])
    vote(voters[5:7], a[0])
    vote(voters[7:8], a[7])
    traveller.move_to(AFTER_W45)
    return World(
        community=community,
        people=people,
        questions=week.questions,
        answers=week.answers,
        moderator=moderator,
        next_week=following,
    )


def close(w: World, capture: Capture) -> Digest:
    """Close W45 (the whole pipeline), running the on-commit callbacks (the moderator's
    e-mail); returns the digest."""
    with capture(execute=True):
        weekly.week_close(community=w.community, week=W45)
    return w.digest()


def closed_world(traveller: time_machine.Coordinates, capture: Capture, **kwargs: Any) -> World:
    w = world(traveller, **kwargs)
    close(w, capture)
    return w


def reveal_names(community: Community) -> dict[int, tuple[str, str]]:
    """Give every profile a distinctive real name and company (membership id →
    (real name, company)), none a substring of another or of a handle."""
    names = {}
    for profile in Profile.objects.filter(community=community):
        pk = profile.membership_id
        names[pk] = (f"Realname Qx{pk}Zv", f"Corpname Jw{pk}Kp")
        Profile.objects.filter(pk=profile.pk).update(real_name=names[pk][0], company=names[pk][1])
    return names


def publish(w: World, capture: Capture, summary: str = "The week in **two** lines.") -> Digest:
    """The week's moderator writes the summary and publishes (e-mails sent eagerly)."""
    digest = w.digest()
    digest_services.digest_curate(digest=digest, editor=w.moderator, summary=summary)
    with capture(execute=True):
        digest_services.digest_publish(digest=w.digest(), publisher=w.moderator)
    return w.digest()


# --- People -------------------------------------------------------------------------------------


def permanent_moderator(community: Community) -> Membership:
    return add_member(
        community, role=Membership.Role.MODERATOR, profile={"handle": "permanent-mod"}
    )


def candidate(community: Community) -> Membership:
    m = add_member(community, profile={"handle": "a-candidate"})
    return set_status(m, Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE)


def outsider() -> Membership:
    """A member of another community."""
    other = Community.objects.filter(slug="elsewhere").first() or make_community(
        slug="elsewhere", name="Elsewhere"
    )
    return add_member(other, profile={"handle": f"outsider-{Membership.objects.count()}"})


def lapse(m: Membership) -> Membership:
    return set_status(m, Membership.Status.LAPSED)


def client_of(m: Membership) -> Client:
    client = Client()
    client.force_login(m.user)
    return client


def api_of(m: Membership) -> APIClient:
    api = APIClient()
    api.force_authenticate(m.user)
    return api


def curate_post(digest: Digest, **overrides: Any) -> dict[str, Any]:
    """The curation form's data as it stands (every item), with ``overrides``."""
    data: dict[str, Any] = {"summary": digest.summary}
    for item in DigestItem.objects.filter(digest=digest).select_related("answer"):
        data[f"position_{item.pk}"] = item.position
        data[f"excerpt_{item.pk}"] = item.excerpt
        if item.hidden:
            data[f"hidden_{item.pk}"] = "on"
        if item.answer.featured:
            data[f"featured_{item.pk}"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
