"""factory_boy factories. Communities, memberships and profiles are made through the
services where the services add something (organiser membership, vocabulary, search
documents), so tests see the same rows production does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from members import services
from members.models import Community, Membership, Tag, User

PASSWORD = "a-long-test-password-42"
_HASHED = make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = _HASHED

    @factory.post_generation
    def verified(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=True)


def make_community(
    *, organiser: User | None = None, slug: str | None = None, **rules: Any
) -> Community:
    organiser = organiser or UserFactory()
    slug = slug or f"c-{organiser.pk}-{Community.objects.count() + 1}"
    rules.setdefault("name", f"Community {slug}")
    return services.community_create(creator=organiser, slug=slug, **rules)


def organiser_of(community: Community) -> Membership:
    return (
        Membership.objects.filter(community=community, role=Membership.Role.ORGANISER)
        .select_related("user", "community")
        .earliest("pk")
    )


def add_member(
    community: Community,
    *,
    role: str = Membership.Role.MEMBER,
    user: User | None = None,
    profile: dict[str, Any] | None = None,
    create_tags: bool = True,
) -> Membership:
    """An active member with the given profile (tags are added to the vocabulary)."""
    user = user or UserFactory()
    return services.member_add(
        actor=organiser_of(community),
        community=community,
        email=user.email,
        role=role,
        profile=profile,
        create_tags=create_tags,
        notify=False,
    )


def set_status(membership: Membership, status: str, role: str | None = None) -> Membership:
    """Put a membership in a state services do not reach directly yet (candidate, pending)."""
    Membership.objects.filter(pk=membership.pk).update(
        status=status, **({"role": role} if role else {})
    )
    services.profile_refresh_search(membership_id=membership.pk)  # role and status are facets
    membership.refresh_from_db()
    return membership


def tag(community: Community, kind: str, name: str) -> Tag:
    return Tag.objects.get_or_create(community=community, kind=kind, name=name)[0]


CITIES = ["上海", "北京", "深圳", "Singapore", "London"]


def _default_fields(i: int) -> dict[str, Any]:
    return {
        "real_name": f"真名{i}",
        "company": f"公司{i}",
        "role_title": "产品经理",
        "industry": "互联网",
        "city": CITIES[i % len(CITIES)],
        "career_path": "从运营到产品",
    }


def bulk_members(
    community: Community,
    n: int,
    *,
    start: int = 0,
    prefix: str = "bulk",
    fields: Callable[[int], dict[str, Any]] = _default_fields,
    tags_for: Callable[[int], list[Tag]] | None = None,
) -> list[Membership]:
    """``n`` active members with full profiles (``fields(i)``) and tags (``tags_for(i)``;
    by default a skill, a need and a hobby), made in a handful of queries — for query
    budgets at several data sizes, the search index tests and the benchmarks."""
    from members import privacy
    from members.models import Profile

    if tags_for is None:
        skills = [tag(community, Tag.Kind.SKILL, s) for s in ("交互设计", "SQL", "Copywriting")]
        needs = [tag(community, Tag.Kind.NEED, name) for name in ("招聘", "Mentoring")]
        hobby = tag(community, Tag.Kind.HOBBY, "跑步")

        def tags_for(i: int) -> list[Tag]:
            return [skills[i % 3], needs[i % 2], hobby]

    users = User.objects.bulk_create(
        User(
            username=f"{prefix}{community.pk}-{i}",
            email=f"{prefix}{community.pk}-{i}@example.com",
            password=_HASHED,
        )
        for i in range(start, start + n)
    )
    memberships = Membership.objects.bulk_create(
        Membership(
            user=u,
            community=community,
            role=Membership.Role.MEMBER,
            status=Membership.Status.ACTIVE,
            joined_via=Membership.JoinedVia.IMPORTED,
        )
        for u in users
    )
    profiles = []
    links = []
    for i, m in enumerate(memberships, start=start):
        p = Profile(membership=m, community=community, handle=f"{prefix}-{i:06d}", **fields(i))
        mine = tags_for(i)
        p.search_document, p.full_search_document = privacy.search_documents(p, mine)
        profiles.append(p)
        links += [Profile.tags.through(profile_id=m.pk, tag_id=t.pk) for t in mine]
    Profile.objects.bulk_create(profiles)
    Profile.tags.through.objects.bulk_create(links)
    return memberships
