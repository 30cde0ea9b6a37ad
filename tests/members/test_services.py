from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from members import services
from members.audit import Event as MemberEvent
from members.models import Community, CommunityAuditLog, Membership, Profile, Tag, User
from tests.factories import UserFactory, add_member, make_community, organiser_of, set_status

pytestmark = pytest.mark.django_db


def test_community_create_makes_the_creator_its_organiser_with_defaults() -> None:
    # given
    creator = UserFactory()
    # when
    community = services.community_create(creator=creator, slug="growth-hackers", name="Growth")
    # then
    membership = Membership.objects.get(community=community, user=creator)
    assert membership.role == Membership.Role.ORGANISER
    assert membership.status == Membership.Status.ACTIVE
    assert membership.joined_via == Membership.JoinedVia.FOUNDED
    assert (community.entrance_fee, community.monthly_fee, community.currency) == (
        20000,
        1000,
        "CNY",
    )
    assert (community.time_zone, community.week_start) == ("Asia/Shanghai", 0)
    assert (community.privacy_threshold, community.phase) == (100, Community.Phase.SEED)
    assert (community.votes_per_member, community.voting_opens_weekday) == (3, 4)
    assert (community.winners_per_week, community.prize_split) == (3, [50, 30, 20])
    assert (community.brief_lead_days, community.grace_days, community.tip_fee_percent) == (3, 7, 0)
    assert Profile.objects.filter(membership=membership).exists()
    assert Tag.objects.filter(community=community, kind=Tag.Kind.SKILL).count() == 5
    assert Tag.objects.filter(community=community, kind=Tag.Kind.NEED).count() == 7
    assert CommunityAuditLog.objects.filter(
        community=community, event=MemberEvent.COMMUNITY_CREATED, actor=creator
    ).exists()


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "x"}, "slug"),
        ({"entrance_fee": -1}, "entrance_fee"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"currency": "XXX"}, "currency"),
        ({"privacy_threshold": 0}, "privacy_threshold"),
        ({"prize_split": [50, 50]}, "prize_split"),
        ({"prize_split": [50, "a", 20]}, "prize_split"),
        ({"week_start": 7}, "week_start"),
    ],
)
def test_community_create_refuses_bad_rules_and_saves_nothing(rules: dict, field: str) -> None:
    creator = UserFactory()
    slug = rules.pop("slug", "fine-slug")
    with pytest.raises(ValidationError) as excinfo:
        services.community_create(creator=creator, slug=slug, name="X", **rules)
    assert field in excinfo.value.message_dict
    assert not Community.objects.exists()
    assert not Membership.objects.exists()


def test_community_slug_is_unique() -> None:
    make_community(slug="taken")
    with pytest.raises(ValidationError) as excinfo:
        make_community(slug="taken")
    assert "slug" in excinfo.value.message_dict
    assert Community.objects.count() == 1


def test_phase_switches_to_growth_when_active_members_reach_the_threshold() -> None:
    # given a community whose threshold is 4 active members (the organiser is one)
    community = make_community(privacy_threshold=4)
    add_member(community)
    add_member(community)
    community.refresh_from_db()
    assert community.phase == Community.Phase.SEED
    # when the fourth becomes active
    add_member(community)
    # then
    community.refresh_from_db()
    assert community.phase == Community.Phase.GROWTH
    assert community.phase_changed_at is not None
    row = CommunityAuditLog.objects.get(community=community, event=MemberEvent.PHASE_CHANGED)
    assert row.actor is None
    assert row.data == {
        "from": "seed",
        "to": "growth",
        "reason": "threshold",
        "active_members": 4,
        "threshold": 4,
    }


def test_candidates_and_inactive_members_do_not_count_towards_the_threshold() -> None:
    community = make_community(privacy_threshold=3)
    set_status(add_member(community), Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE)
    set_status(add_member(community), Membership.Status.LAPSED)
    services.community_sync_phase(community_id=community.pk)
    community.refresh_from_db()
    assert community.phase == Community.Phase.SEED


def test_lowering_the_threshold_below_the_count_switches_at_once() -> None:
    community = make_community(privacy_threshold=10)
    add_member(community)
    services.community_update(
        actor=organiser_of(community), community=community, changes={"privacy_threshold": 2}
    )
    community.refresh_from_db()
    assert community.phase == Community.Phase.GROWTH


def test_the_growth_phase_is_one_way() -> None:
    community = make_community()
    organiser = organiser_of(community)
    services.community_enter_growth(actor=organiser, community=community)
    community.refresh_from_db()
    assert community.phase == Community.Phase.GROWTH
    manual = CommunityAuditLog.objects.get(community=community, event=MemberEvent.PHASE_CHANGED)
    assert (manual.actor, manual.data["reason"]) == (organiser.user, "organiser")
    with pytest.raises(ValidationError) as excinfo:
        services.community_update(actor=organiser, community=community, changes={"phase": "seed"})
    assert "phase" in excinfo.value.message_dict
    community.refresh_from_db()
    assert community.phase == Community.Phase.GROWTH
    assert CommunityAuditLog.objects.filter(event=MemberEvent.PHASE_CHANGED).count() == 1


def test_settings_change_is_audited_with_before_and_after() -> None:
    community = make_community()
    organiser = organiser_of(community)
    services.community_update(
        actor=organiser,
        community=community,
        changes={"entrance_fee": 30000, "name": community.name},
    )
    row = CommunityAuditLog.objects.get(event=MemberEvent.SETTINGS_CHANGED)
    assert row.data == {"changes": {"entrance_fee": [20000, 30000]}}
    assert row.actor == organiser.user


def test_bad_settings_change_nothing() -> None:
    community = make_community()
    with pytest.raises(ValidationError) as excinfo:
        services.community_update(
            actor=organiser_of(community),
            community=community,
            changes={"entrance_fee": 1, "winners_per_week": 2},  # split still has 3 weights
        )
    assert "prize_split" in excinfo.value.message_dict
    community.refresh_from_db()
    assert (community.entrance_fee, community.winners_per_week) == (20000, 3)
    assert not CommunityAuditLog.objects.filter(event=MemberEvent.SETTINGS_CHANGED).exists()


def test_member_add_creates_the_account_and_an_active_membership(
    mailoutbox: list, django_capture_on_commit_callbacks
) -> None:
    community = make_community(name="Circle")
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.member_add(
            actor=organiser_of(community), community=community, email="New.Person@Example.COM"
        )
    user = membership.user
    assert user.email == "New.Person@example.com"
    assert not user.has_usable_password()
    assert (membership.role, membership.status, membership.joined_via) == (
        "member",
        "active",
        "imported",
    )
    # a neutral handle: one made from the e-mail address would name them in the growth phase
    assert membership.profile.handle == f"member-{membership.pk}"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["New.Person@example.com"]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_member_add_twice_is_refused_naming_the_email() -> None:
    community = make_community()
    user = UserFactory()
    add_member(community, user=user)
    with pytest.raises(ValidationError) as excinfo:
        add_member(community, user=user)
    assert "email" in excinfo.value.message_dict
    assert Membership.objects.filter(community=community, user=user).count() == 1


def test_member_add_reactivates_someone_who_left() -> None:
    community = make_community()
    left = set_status(add_member(community), Membership.Status.LEFT)
    again = add_member(community, user=left.user)
    assert again.pk == left.pk
    assert again.status == Membership.Status.ACTIVE


def test_member_add_with_a_taken_username_saves_nothing() -> None:
    community = make_community()
    UserFactory(username="taken")
    with pytest.raises(ValidationError) as excinfo:
        services.member_add(
            actor=organiser_of(community), community=community, email="a@b.cn", username="taken"
        )
    assert "username" in excinfo.value.message_dict
    assert not User.objects.filter(email="a@b.cn").exists()


def test_profile_update_refuses_unknown_tags_and_taken_handles_atomically() -> None:
    community = make_community()
    add_member(community, profile={"handle": "alice"})
    bob = add_member(community, profile={"handle": "bob", "city": "上海"})
    with pytest.raises(ValidationError) as excinfo:
        services.profile_update(
            membership=bob, data={"handle": "ALICE", "city": "北京", "skills": ["Nope"]}
        )
    assert set(excinfo.value.message_dict) == {"handle", "skills"}
    bob.profile.refresh_from_db()
    assert (bob.profile.handle, bob.profile.city) == ("bob", "上海")


@pytest.mark.parametrize("handle", ["<b>bob</b>", "bob&co", 'say "hi"', "o'neil", "`x`"])
def test_a_new_handle_refuses_markup_characters(handle: str) -> None:
    community = make_community()
    bob = add_member(community, profile={"handle": "bob"})
    with pytest.raises(ValidationError) as excinfo:
        services.profile_update(membership=bob, data={"handle": handle, "city": "北京"})
    assert excinfo.value.message_dict == {"handle": ["A handle cannot contain < > & \" ' or `."]}
    bob.profile.refresh_from_db()
    assert (bob.profile.handle, bob.profile.city) == ("bob", "")


def test_an_existing_handle_with_markup_does_not_block_other_changes() -> None:
    community = make_community()
    old = add_member(community, profile={"handle": "bob"})
    Profile.objects.filter(pk=old.pk).update(handle="o'neil")  # from before the rule
    services.profile_update(membership=old, data={"city": "上海"})
    old.profile.refresh_from_db()
    assert (old.profile.handle, old.profile.city) == ("o'neil", "上海")


def test_members_may_add_tags_to_the_vocabulary() -> None:
    community = make_community()
    member = add_member(community)
    created = services.tag_create(membership=member, kind="skill", name="  用户增长 ")
    assert (created.name, created.created_by) == ("用户增长", member)
    with pytest.raises(ValidationError) as excinfo:
        services.tag_create(membership=member, kind="skill", name="用户增长")
    assert "name" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.tag_create(membership=member, kind="mood", name="x")
    assert "kind" in excinfo.value.message_dict


def test_the_last_organiser_cannot_be_demoted() -> None:
    community = make_community()
    organiser = organiser_of(community)
    with pytest.raises(ValidationError) as excinfo:
        services.membership_change(actor=organiser, membership=organiser, role="member")
    assert "role" in excinfo.value.message_dict
    organiser.refresh_from_db()
    assert organiser.role == Membership.Role.ORGANISER


def test_role_change_is_audited() -> None:
    community = make_community()
    organiser = organiser_of(community)
    member = add_member(community)
    services.membership_change(actor=organiser, membership=member, role="moderator")
    member.refresh_from_db()
    assert member.role == Membership.Role.MODERATOR
    row = CommunityAuditLog.objects.get(event=MemberEvent.ROLE_CHANGED)
    assert (row.membership, row.data) == (member, {"from": "member", "to": "moderator"})
