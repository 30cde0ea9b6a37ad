"""Invite links (members.services.invites): organisers make, copy and revoke them; a
signed-in person who accepts one becomes an active member without paying online; a revoked,
expired or used-up link, or one for somebody who belongs already, changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from members.audit import Event
from members.models import Community, CommunityAuditLog, JoinInvite, Membership
from members.services import invites
from tests.factories import UserFactory, add_member, set_status

pytestmark = pytest.mark.django_db

Role = Membership.Role
Status = Membership.Status


def _link(invite: JoinInvite) -> str:
    return f"/c/{invite.community.slug}/invite/{invite.token}/"


def test_an_organiser_makes_a_link_and_a_newcomer_joins_with_it(
    client: Client, community: Community, organiser: Membership
) -> None:
    # given: the organiser makes a link on the invite links page
    client.force_login(organiser.user)
    response = client.post(
        "/c/circle/members/invites/", {"days": "3", "max_uses": "2"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    invite = JoinInvite.objects.get()
    assert (invite.max_uses, invite.uses, invite.created_by) == (2, 0, organiser.user)
    assert invite.expires_at - invite.created_at == datetime.timedelta(days=3)
    page = client.get("/c/circle/members/invites/").content.decode()
    assert f"http://testserver{_link(invite)}" in page
    assert CommunityAuditLog.objects.filter(event=Event.INVITE_LINK_CREATED).count() == 1

    # when: a signed-in newcomer opens it and accepts
    newcomer = UserFactory()
    client.force_login(newcomer)
    assert "Accept the invitation" in client.get(_link(invite)).content.decode()
    accepted = client.post(_link(invite))

    # then: an active member, the use counted, the change in the log
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/c/circle/"
    membership = Membership.objects.get(community=community, user=newcomer)
    assert (membership.role, membership.status) == (Role.MEMBER, Status.ACTIVE)
    assert membership.activated_at is not None
    invite.refresh_from_db()
    assert invite.uses == 1
    log = CommunityAuditLog.objects.get(event=Event.MEMBER_ADDED, membership=membership)
    assert log.data["invite"] == invite.pk
    assert log.actor == newcomer
    assert client.get("/c/circle/questions/").status_code == 200


def test_a_visitor_is_asked_to_sign_in_and_comes_back(
    client: Client, community: Community, organiser: Membership
) -> None:
    invite = invites.invite_create(actor=organiser)

    page = client.get(_link(invite))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"/accounts/login/?next=/c/circle/invite/{invite.token}/" in text
    assert f"/accounts/signup/?next=/c/circle/invite/{invite.token}/" in text

    # a form sent without signing in goes to sign in, and back to the link
    response = client.post(_link(invite))
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/accounts/login/?next=/c/circle/invite/{invite.token}/"
    )
    invite.refresh_from_db()
    assert invite.uses == 0
    assert Membership.objects.filter(community=community).count() == 1


@pytest.mark.parametrize("state", ["revoked", "expired", "used_up"])
def test_a_link_that_no_longer_works_changes_nothing(
    client: Client, community: Community, organiser: Membership, state: str
) -> None:
    invite = invites.invite_create(actor=organiser, max_uses=1)
    if state == "revoked":
        invites.invite_revoke(actor=organiser, invite_id=invite.pk)
    elif state == "expired":
        JoinInvite.objects.filter(pk=invite.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    else:
        invites.invite_accept(user=UserFactory(), invite_id=invite.pk)
    members_before = Membership.objects.count()
    newcomer = UserFactory()
    client.force_login(newcomer)

    page = client.get(_link(invite), HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(_link(invite), HTTP_ACCEPT_LANGUAGE="en")

    expected = {
        "revoked": "it was revoked or mistyped",
        "expired": "This invite link has expired.",
        "used_up": "used as many times as it allows",
    }[state]
    for answer in (page, response):
        assert answer.status_code == 200
        text = answer.content.decode()
        assert expected in text
        assert "Accept the invitation" not in text
    assert not Membership.objects.filter(user=newcomer).exists()
    assert Membership.objects.count() == members_before
    with pytest.raises(ValidationError):
        invites.invite_accept(user=newcomer, invite_id=invite.pk)
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_mistyped_link_or_another_communitys_is_not_found(
    client: Client, community: Community, organiser: Membership
) -> None:
    from tests.factories import make_community

    invite = invites.invite_create(actor=organiser)
    other = make_community(slug="other")
    client.force_login(UserFactory())

    assert client.get("/c/circle/invite/not-a-token/").status_code == 404
    assert client.post("/c/circle/invite/not-a-token/").status_code == 404
    assert client.post(f"/c/{other.slug}/invite/{invite.token}/").status_code == 404
    assert client.get("/c/no-such-community/invite/x/").status_code == 404
    assert Membership.objects.filter(community=other).count() == 1


def test_an_active_member_uses_no_place_on_the_link(
    client: Client, community: Community, organiser: Membership, member: Membership
) -> None:
    invite = invites.invite_create(actor=organiser, max_uses=1)
    client.force_login(member.user)

    page = client.get(_link(invite), HTTP_ACCEPT_LANGUAGE="en")
    assert "You are already a member of this community." in page.content.decode()
    response = client.post(_link(invite), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    invite.refresh_from_db()
    assert invite.uses == 0
    with pytest.raises(ValidationError) as raised:
        invites.invite_accept(user=member.user, invite_id=invite.pk)
    assert raised.value.message_dict == {"invite": ["You are already a member of this community."]}
    member.refresh_from_db()
    assert (member.role, member.status) == (Role.MEMBER, Status.ACTIVE)


def test_a_link_gives_back_membership_but_no_role_to_someone_who_left(
    community: Community, organiser: Membership
) -> None:
    moderator = set_status(add_member(community, role=Role.MODERATOR), Status.LEFT)
    candidate = set_status(add_member(community), Status.ACTIVE, role=Role.CANDIDATE)
    lapsed = set_status(add_member(community, role=Role.MODERATOR), Status.LAPSED)
    invite = invites.invite_create(actor=organiser, max_uses=3)

    for membership in (moderator, candidate, lapsed):
        invites.invite_accept(user=membership.user, invite_id=invite.pk)
        membership.refresh_from_db()

    assert (moderator.role, moderator.status) == (Role.MEMBER, Status.ACTIVE)
    assert (candidate.role, candidate.status) == (Role.MEMBER, Status.ACTIVE)
    assert (lapsed.role, lapsed.status) == (Role.MODERATOR, Status.ACTIVE)
    invite.refresh_from_db()
    assert invite.uses == 3
    assert (
        CommunityAuditLog.objects.filter(event=Event.STATUS_CHANGED, data__reason="invite").count()
        == 3
    )


def test_only_organisers_make_and_revoke_links(
    client: Client, community: Community, organiser: Membership, member: Membership
) -> None:
    invite = invites.invite_create(actor=organiser)
    client.force_login(member.user)

    assert client.get("/c/circle/members/invites/").status_code == 403
    assert (
        client.post("/c/circle/members/invites/", {"days": "3", "max_uses": "2"}).status_code == 403
    )
    assert client.post(f"/c/circle/members/invites/{invite.pk}/revoke/").status_code == 403
    assert JoinInvite.objects.count() == 1
    invite.refresh_from_db()
    assert invite.revoked_at is None
    client.logout()
    anonymous = client.get("/c/circle/members/invites/")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous.headers["Location"]


def test_an_organiser_revokes_a_link_and_it_stops_working(
    client: Client, community: Community, organiser: Membership
) -> None:
    invite = invites.invite_create(actor=organiser)
    client.force_login(organiser.user)

    response = client.post(f"/c/circle/members/invites/{invite.pk}/revoke/")
    again = client.post(f"/c/circle/members/invites/{invite.pk}/revoke/")

    assert (response.status_code, again.status_code) == (302, 302)
    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert invites.open_invites(community=community) == []
    assert CommunityAuditLog.objects.filter(event=Event.INVITE_LINK_REVOKED).count() == 1
    assert client.post("/c/circle/members/invites/999999/revoke/").status_code == 404


def test_another_communitys_organiser_cannot_revoke_a_link(
    client: Client, community: Community, organiser: Membership
) -> None:
    from tests.factories import make_community, organiser_of

    invite = invites.invite_create(actor=organiser)
    other = make_community(slug="other")
    client.force_login(organiser_of(other).user)

    response = client.post(f"/c/other/members/invites/{invite.pk}/revoke/")

    assert response.status_code == 404
    invite.refresh_from_db()
    assert invite.revoked_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"days": "0", "max_uses": "2"}, "days"),
        ({"days": "91", "max_uses": "2"}, "days"),
        ({"days": "3", "max_uses": "abc"}, "max_uses"),
        ({"days": "3", "max_uses": "1001"}, "max_uses"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_kept(
    client: Client, organiser: Membership, data: dict[str, str], field: str
) -> None:
    client.force_login(organiser.user)

    response = client.post("/c/circle/members/invites/", data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'value="{data[field]}"' in response.content.decode()
    assert not JoinInvite.objects.exists()


def test_the_service_checks_its_numbers(organiser: Membership) -> None:
    for days, uses in ((0, 1), (1, 0), (True, 1), ("3", 1), (1, invites.MAX_USES + 1)):
        with pytest.raises(ValidationError):
            invites.invite_create(actor=organiser, days=days, max_uses=uses)
    assert not JoinInvite.objects.exists()
    assert not CommunityAuditLog.objects.filter(event=Event.INVITE_LINK_CREATED).exists()


def test_the_number_of_working_links_is_capped(organiser: Membership) -> None:
    for _ in range(invites.MAX_OPEN_LINKS):
        invites.invite_create(actor=organiser)
    with pytest.raises(ValidationError):
        invites.invite_create(actor=organiser)
    assert JoinInvite.objects.count() == invites.MAX_OPEN_LINKS


def test_the_add_member_page_points_to_invite_links(
    client: Client, organiser: Membership, settings: Any
) -> None:
    client.force_login(organiser.user)
    page = client.get("/c/circle/members/add/").content.decode()
    assert 'href="/c/circle/members/invites/"' in page


def test_the_demo_prints_the_same_working_link_on_every_run(
    community: Community, organiser: Membership
) -> None:
    from community import demo_join

    # given: the demo made its link once
    first = demo_join.load(organiser=organiser)
    logged = CommunityAuditLog.objects.count()

    # when: it runs again
    second = demo_join.load(organiser=organiser)

    # then: the same link, nothing written
    assert second.pk == first.pk
    assert JoinInvite.objects.count() == 1
    assert CommunityAuditLog.objects.count() == logged
    assert (first.max_uses, first.expires_at - first.created_at) == (
        invites.MAX_USES,
        datetime.timedelta(days=invites.MAX_DAYS),
    )

    # and once it no longer works, a new one is made
    invites.invite_revoke(actor=organiser, invite_id=first.pk)
    third = demo_join.load(organiser=organiser)
    assert third.pk != first.pk
    assert invites.invite_problem(third) == ""
