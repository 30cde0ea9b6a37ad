"""The REST contract of the members app (SPEC §5): token, communities, members, profiles,
tags, matcher, import, and the OpenAPI schema and docs."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members.audit import Event as MemberEvent
from members.models import Community, CommunityAuditLog, Membership, Profile, Tag, User
from tests.factories import (
    PASSWORD,
    UserFactory,
    add_member,
    make_community,
    set_status,
    totp_activate,
    totp_code,
)

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
COMMUNITIES_URL = "/api/v1/communities/"


def _url(slug: str, rest: str = "") -> str:
    return f"/api/v1/communities/{slug}/{rest}"


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")


# --- Token -------------------------------------------------------------------------------------


def test_token_by_username(api: APIClient) -> None:
    # given
    user = UserFactory(username="alice")
    # when
    response = api.post(TOKEN_URL, {"username": "alice", "password": PASSWORD})
    # then
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}


def test_token_by_email_and_the_same_token_twice(api: APIClient) -> None:
    user = UserFactory(username="bob", email="bob@example.com")
    first = api.post(TOKEN_URL, {"username": "bob@example.com", "password": PASSWORD})
    second = api.post(TOKEN_URL, {"username": "bob", "password": PASSWORD})
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json() == {"token": Token.objects.get(user=user).key}
    assert Token.objects.count() == 1


@pytest.mark.parametrize("login", ["carol", "carol@example.com", "nobody", ""])
def test_token_refused_for_a_wrong_password_or_unknown_user(api: APIClient, login: str) -> None:
    UserFactory(username="carol", email="carol@example.com")
    response = api.post(TOKEN_URL, {"username": login, "password": "not-the-password"})
    assert response.status_code == 400
    if login:
        assert response.json() == {"non_field_errors": ["Wrong username or password."]}
    else:
        assert response.json() == {"username": ["This field may not be blank."]}
    assert not Token.objects.exists()


def test_token_refused_until_the_email_is_verified(api: APIClient) -> None:
    # verification is mandatory in tests (pyproject: ACCOUNT_EMAIL_VERIFICATION=mandatory)
    UserFactory(username="dave", verified=False)
    response = api.post(TOKEN_URL, {"username": "dave", "password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Confirm your e-mail address first."]}
    assert not Token.objects.exists()


def test_token_request_with_unknown_fields_is_refused(api: APIClient) -> None:
    UserFactory(username="erin")
    response = api.post(TOKEN_URL, {"username": "erin", "password": PASSWORD, "otp": "1"})
    assert response.status_code == 400
    assert response.json() == {"otp": ["Unknown field."]}
    assert not Token.objects.exists()


def test_the_token_authenticates_api_calls(api: APIClient, community: Community) -> None:
    # given a member who fetched a token
    membership = add_member(community)
    key = api.post(TOKEN_URL, {"username": membership.user.username, "password": PASSWORD}).json()[
        "token"
    ]
    # when
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(COMMUNITIES_URL)
    # then
    assert response.status_code == 200
    assert [(c["slug"], c["my_role"]) for c in response.json()] == [("circle", "member")]


def test_a_wrong_token_or_none_is_401(api: APIClient) -> None:
    assert api.get(COMMUNITIES_URL).status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api.get(COMMUNITIES_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_token_endpoint_is_throttled(api: APIClient) -> None:
    # given the scope "token" allows 10 requests a minute (settings: API_TOKEN_THROTTLE)
    UserFactory(username="frank")
    statuses = [
        api.post(TOKEN_URL, {"username": f"nobody{i}", "password": "guess"}).status_code
        for i in range(10)
    ]
    assert statuses == [400] * 10
    # when the eleventh comes, even with the right password
    response = api.post(TOKEN_URL, {"username": "frank", "password": PASSWORD})
    # then
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not Token.objects.exists()


def test_guessing_one_account_s_password_is_stopped_after_five_tries(api: APIClient) -> None:
    # given allauth's per-account limit for failed sign-ins (5 in 5 minutes)
    user = UserFactory(username="grace")
    statuses = [
        api.post(TOKEN_URL, {"username": user.email, "password": "guess"}).status_code
        for _ in range(6)
    ]
    # then the sixth try is refused, and so is the right password for a while
    assert statuses == [400] * 5 + [429]
    response = api.post(TOKEN_URL, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert not Token.objects.exists()


def test_naming_the_account_by_e_mail_and_by_username_shares_one_count(api: APIClient) -> None:
    # given the per-account limit of 5 failed sign-ins, alternating the account's two names
    user = UserFactory(username="zeyu")
    logins = [user.email, "zeyu", user.email.upper(), "ZEYU", user.email, "zeyu"]
    statuses = [
        api.post(TOKEN_URL, {"username": login, "password": "guess"}).status_code
        for login in logins
    ]
    # then the sixth failure in all is refused, not the eleventh
    assert statuses == [400] * 5 + [429]
    assert api.post(TOKEN_URL, {"username": "zeyu", "password": PASSWORD}).status_code == 429


def test_second_factor_guesses_are_limited_per_account_from_any_address(
    api: APIClient,
) -> None:
    # given an account with TOTP whose password the attacker has
    user = UserFactory(username="ivo")
    secret = totp_activate(user)
    # when wrong codes come from five different addresses (the per-address limit never bites)
    statuses = [
        api.post(
            TOKEN_URL,
            {"username": "ivo", "password": PASSWORD, "code": "000000"},
            REMOTE_ADDR=f"203.0.113.{i}",
        ).status_code
        for i in range(1, 7)
    ]
    # then the account's limit stops the sixth, and the right code is refused for a while too
    assert statuses == [400] * 5 + [429]
    right = api.post(
        TOKEN_URL,
        {"username": "ivo", "password": PASSWORD, "code": totp_code(secret)},
        REMOTE_ADDR="203.0.113.99",
    )
    assert right.status_code == 429
    assert not Token.objects.exists()


def test_an_account_with_totp_needs_the_code_for_a_token(api: APIClient) -> None:
    # given
    user = UserFactory(username="hana")
    secret = totp_activate(user)
    # when the code is missing or wrong
    missing = api.post(TOKEN_URL, {"username": "hana", "password": PASSWORD})
    wrong = api.post(TOKEN_URL, {"username": "hana", "password": PASSWORD, "code": "000000"})
    # then
    assert (missing.status_code, list(missing.json())) == (400, ["code"])
    assert (wrong.status_code, list(wrong.json())) == (400, ["code"])
    assert not Token.objects.exists()
    # when the current code is given
    code = totp_code(secret)
    response = api.post(TOKEN_URL, {"username": "hana", "password": PASSWORD, "code": code})
    # then
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}


# --- Communities -------------------------------------------------------------------------------


def test_community_create_makes_the_caller_organiser_with_the_spec_defaults(
    api: APIClient,
) -> None:
    # given
    creator = UserFactory()
    api.force_authenticate(creator)
    # when
    response = api.post(COMMUNITIES_URL, {"slug": "growth-hackers", "name": "Growth Hackers"})
    # then
    assert response.status_code == 201
    data = response.json()
    created_at = data.pop("created_at")
    assert data == {
        "slug": "growth-hackers",
        "name": "Growth Hackers",
        "description": "",
        "currency": "CNY",
        "entrance_fee": 20000,
        "monthly_fee": 1000,
        "time_zone": "Asia/Shanghai",
        "week_start": 0,
        "privacy_threshold": 100,
        "phase": "seed",
        "phase_changed_at": None,
        "votes_per_member": 3,
        "voting_opens_weekday": 4,
        "voting_opens_time": "00:00:00",
        "winners_per_week": 3,
        "prize_split": [50, 30, 20],
        "brief_lead_days": 3,
        "grace_days": 7,
        "tip_fee_percent": 0,
        "payout_hold_hours": 48,
        "moderator_target_answerers": 10,
        "moderator_target_quality": 4.0,
        "pay_by_alipay": False,
        "pay_by_wechat_pay": False,
        "active_members": 1,
        "my_role": "organiser",
    }
    community = Community.objects.get(slug="growth-hackers")
    assert created_at == community.created_at.isoformat().replace("+00:00", "Z")
    membership = Membership.objects.get(community=community)
    assert (membership.user, membership.role, membership.status, membership.joined_via) == (
        creator,
        "organiser",
        "active",
        "founded",
    )


def test_community_create_takes_the_rules_given(api: APIClient) -> None:
    api.force_authenticate(UserFactory())
    response = api.post(
        COMMUNITIES_URL,
        {
            "slug": "tokyo",
            "name": "Tokyo",
            "currency": "JPY",
            "entrance_fee": 3000,
            "monthly_fee": 500,
            "time_zone": "Asia/Tokyo",
            "winners_per_week": 2,
            "prize_split": [70, 30],
        },
    )
    assert response.status_code == 201
    community = Community.objects.get(slug="tokyo")
    assert (community.currency, community.entrance_fee, community.monthly_fee) == ("JPY", 3000, 500)
    assert (community.time_zone, community.winners_per_week, community.prize_split) == (
        "Asia/Tokyo",
        2,
        [70, 30],
    )


def test_community_create_needs_a_signed_in_user(api: APIClient, db: None) -> None:
    response = api.post(COMMUNITIES_URL, {"slug": "anon", "name": "Anon"})
    assert response.status_code == 401
    assert not Community.objects.exists()


def test_community_list_shows_the_callers_communities_but_not_those_left(
    api: APIClient, community: Community, member: Membership
) -> None:
    other = make_community(slug="other", name="Other")
    set_status(add_member(other, user=member.user), Membership.Status.LEFT)
    make_community(slug="stranger", name="Stranger")
    api.force_authenticate(member.user)
    response = api.get(COMMUNITIES_URL)
    assert response.status_code == 200
    assert [(c["slug"], c["my_role"], c["active_members"]) for c in response.json()] == [
        ("circle", "member", 2)
    ]


def test_community_detail_for_a_member(
    api: APIClient, community: Community, moderator: Membership, member: Membership
) -> None:
    api.force_authenticate(member.user)
    response = api.get(_url("circle"))
    assert response.status_code == 200
    data = response.json()
    assert (data["slug"], data["name"], data["my_role"], data["active_members"]) == (
        "circle",
        "Circle",
        "member",
        3,
    )


def test_community_patch_changes_the_rules_and_audits(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    # given
    api.force_authenticate(organiser.user)
    # when
    response = api.patch(
        _url("circle"),
        {"entrance_fee": 30000, "winners_per_week": 2, "prize_split": [60, 40], "grace_days": 3},
    )
    # then
    assert response.status_code == 200
    data = response.json()
    assert (data["entrance_fee"], data["winners_per_week"], data["prize_split"]) == (
        30000,
        2,
        [60, 40],
    )
    community.refresh_from_db()
    assert (community.entrance_fee, community.winners_per_week, community.prize_split) == (
        30000,
        2,
        [60, 40],
    )
    assert (community.grace_days, community.monthly_fee) == (3, 1000)
    row = CommunityAuditLog.objects.get(event=MemberEvent.SETTINGS_CHANGED)
    assert row.actor == organiser.user
    assert row.data == {
        "changes": {
            "entrance_fee": [20000, 30000],
            "winners_per_week": [3, 2],
            "prize_split": [[50, 30, 20], [60, 40]],
            "grace_days": [7, 3],
        }
    }


def test_community_patch_phase_to_growth(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.force_authenticate(organiser.user)
    response = api.patch(_url("circle"), {"phase": "growth"})
    assert response.status_code == 200
    assert response.json()["phase"] == "growth"
    assert response.json()["phase_changed_at"] is not None
    community.refresh_from_db()
    assert community.phase == Community.Phase.GROWTH


# --- Members: add, list, detail, change --------------------------------------------------------


def test_member_add_creates_the_user_and_an_active_membership(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    # given
    api.force_authenticate(organiser.user)
    # when
    response = api.post(_url("circle", "members/"), {"email": "New.Person@Example.COM"})
    # then
    assert response.status_code == 201
    user = User.objects.get(email="New.Person@example.com")
    membership = Membership.objects.get(community=community, user=user)
    assert response.json() == {
        "id": membership.pk,
        "role": "member",
        "handle": f"member-{membership.pk}",  # neutral: the e-mail would name the person
        "real_name": "",
        "company": "",
        "role_title": "",
        "industry": "",
        "career_path": "",
        "city": "",
        "skills": [],
        "needs": [],
        "hobbies": [],
    }
    assert (membership.role, membership.status, membership.joined_via) == (
        "member",
        "active",
        "imported",
    )
    assert user.username == "New.Person"
    assert not user.has_usable_password()


def test_member_add_with_username_and_role(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.force_authenticate(organiser.user)
    response = api.post(
        _url("circle", "members/"),
        {"email": "mod@example.com", "username": "the-mod", "role": "moderator"},
    )
    assert response.status_code == 201
    membership = Membership.objects.get(user__username="the-mod", community=community)
    assert (response.json()["id"], response.json()["role"]) == (membership.pk, "moderator")
    assert membership.role == Membership.Role.MODERATOR


def test_member_add_uses_an_existing_account(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    existing = UserFactory(email="known@example.com")
    users_before = User.objects.count()
    api.force_authenticate(organiser.user)
    response = api.post(_url("circle", "members/"), {"email": "KNOWN@example.com"})
    assert response.status_code == 201
    assert User.objects.count() == users_before
    assert Membership.objects.get(pk=response.json()["id"]).user == existing


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "x@example.com", "role": "candidate"}, "role"),
        ({"email": "x@example.com", "username": "has space"}, "username"),
        ({"email": "x@example.com", "status": "active"}, "status"),
        ({}, "email"),
    ],
)
def test_member_add_refuses_bad_input_and_creates_no_one(
    api: APIClient, community: Community, organiser: Membership, body: dict, field: str
) -> None:
    users, memberships = User.objects.count(), Membership.objects.count()
    api.force_authenticate(organiser.user)
    response = api.post(_url("circle", "members/"), body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)


def test_member_add_twice_is_refused(
    api: APIClient, community: Community, organiser: Membership, member: Membership
) -> None:
    api.force_authenticate(organiser.user)
    response = api.post(_url("circle", "members/"), {"email": member.user.email})
    assert response.status_code == 400
    assert response.json() == {"email": ["This person is already an active member."]}
    assert Membership.objects.filter(user=member.user).count() == 1


def test_directory_lists_active_members_by_handle_paginated(
    api: APIClient, community: Community, organiser: Membership, member: Membership
) -> None:
    # given
    add_member(community, profile={"handle": "alice", "city": "上海", "skills": ["Planning"]})
    set_status(add_member(community, profile={"handle": "gone"}), Membership.Status.LEFT)
    api.force_authenticate(member.user)
    # when
    response = api.get(_url("circle", "members/"))
    # then
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["next"], data["previous"]) == (3, None, None)
    handles = [p["handle"] for p in data["results"]]
    assert handles == sorted(["alice", "plain", organiser.profile.handle])
    alice = next(p for p in data["results"] if p["handle"] == "alice")
    assert (alice["city"], alice["skills"], alice["needs"], alice["hobbies"]) == (
        "上海",
        ["Planning"],
        [],
        [],
    )


@pytest.mark.parametrize(
    ("query", "handles"),
    [
        ({"skill": "Planning"}, ["alice", "bob"]),
        ({"skill": ["Planning", "Copywriting"]}, ["alice"]),
        ({"need": "Hiring"}, ["bob"]),
        ({"hobby": "Go"}, ["alice"]),
        ({"industry": "fintech"}, ["bob"]),
        ({"city": "上海"}, ["alice"]),
        ({"q": "designer"}, ["alice"]),
        ({"role": "moderator"}, ["bob"]),
    ],
)
def test_directory_filters(
    api: APIClient, community: Community, organiser: Membership, query: dict, handles: list[str]
) -> None:
    add_member(
        community,
        profile={
            "handle": "alice",
            "city": "上海",
            "role_title": "Designer",
            "skills": ["Planning", "Copywriting"],
            "hobbies": ["Go"],
        },
    )
    add_member(
        community,
        role=Membership.Role.MODERATOR,
        profile={
            "handle": "bob",
            "industry": "Fintech",
            "skills": ["Planning"],
            "needs": ["Hiring"],
        },
    )
    api.force_authenticate(organiser.user)
    response = api.get(_url("circle", "members/"), query)
    assert response.status_code == 200
    assert [p["handle"] for p in response.json()["results"]] == handles


def test_directory_pages(api: APIClient, community: Community, organiser: Membership) -> None:
    for n in range(3):
        add_member(community, profile={"handle": f"m{n}"})
    api.force_authenticate(organiser.user)
    response = api.get(_url("circle", "members/"), {"page_size": 2, "page": 2})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 4
    assert [p["handle"] for p in data["results"]] == ["m2", organiser.profile.handle]
    assert data["next"] is None
    assert data["previous"].endswith("/api/v1/communities/circle/members/?page_size=2")


def test_directory_in_the_growth_phase_leaves_hidden_fields_out(
    api: APIClient, community: Community, organiser: Membership, member: Membership
) -> None:
    other = add_member(community, profile={"handle": "hidden", "real_name": "王五", "company": "X"})
    Community.objects.filter(pk=community.pk).update(phase=Community.Phase.GROWTH)
    api.force_authenticate(member.user)
    as_member = api.get(_url("circle", f"members/{other.pk}/")).json()
    api.force_authenticate(organiser.user)
    as_organiser = api.get(_url("circle", f"members/{other.pk}/")).json()
    assert "real_name" not in as_member
    assert "company" not in as_member
    assert (as_organiser["real_name"], as_organiser["company"]) == ("王五", "X")


def test_member_detail(api: APIClient, community: Community, member: Membership) -> None:
    other = add_member(
        community,
        profile={"handle": "zoe", "real_name": "Zoe Z", "needs": ["Guidance"], "city": "杭州"},
    )
    api.force_authenticate(member.user)
    response = api.get(_url("circle", f"members/{other.pk}/"))
    assert response.status_code == 200
    assert response.json() == {
        "id": other.pk,
        "role": "member",
        "handle": "zoe",
        "real_name": "Zoe Z",
        "company": "",
        "role_title": "",
        "industry": "",
        "career_path": "",
        "city": "杭州",
        "skills": [],
        "needs": ["Guidance"],
        "hobbies": [],
    }


def test_member_detail_of_an_unknown_or_foreign_member_is_404(
    api: APIClient, community: Community, member: Membership
) -> None:
    foreign = add_member(make_community(slug="other"))
    api.force_authenticate(member.user)
    assert api.get(_url("circle", "members/999999/")).status_code == 404
    assert api.get(_url("circle", f"members/{foreign.pk}/")).status_code == 404


def test_my_profile_reads_and_updates_with_tag_names(
    api: APIClient, community: Community, member: Membership
) -> None:
    # given
    api.force_authenticate(member.user)
    # when
    response = api.patch(
        _url("circle", "members/me/"),
        {
            "handle": "newname",
            "real_name": " 李四 ",
            "city": "北京",
            "skills": ["planning", "Copywriting"],
            "needs": ["Guidance"],
        },
    )
    # then
    assert response.status_code == 200
    expected = {
        "id": member.pk,
        "role": "member",
        "handle": "newname",
        "real_name": "李四",
        "company": "",
        "role_title": "",
        "industry": "",
        "career_path": "",
        "city": "北京",
        "skills": ["Copywriting", "Planning"],
        "needs": ["Guidance"],
        "hobbies": [],
    }
    assert response.json() == expected
    assert api.get(_url("circle", "members/me/")).json() == expected
    profile = Profile.objects.get(membership=member)
    assert (profile.handle, profile.real_name, profile.city) == ("newname", "李四", "北京")


def test_my_profile_patch_is_partial(
    api: APIClient, community: Community, member: Membership
) -> None:
    api.force_authenticate(member.user)
    api.patch(_url("circle", "members/me/"), {"skills": ["Planning"], "city": "上海"})
    response = api.patch(_url("circle", "members/me/"), {"company": "ACME"})
    assert response.status_code == 200
    data = response.json()
    assert (data["skills"], data["city"], data["company"]) == (["Planning"], "上海", "ACME")
    response = api.patch(_url("circle", "members/me/"), {"skills": []})
    assert (response.json()["skills"], response.json()["city"]) == ([], "上海")


def test_organiser_changes_a_members_role_and_status(
    api: APIClient, community: Community, organiser: Membership, member: Membership
) -> None:
    api.force_authenticate(organiser.user)
    response = api.patch(_url("circle", f"members/{member.pk}/"), {"role": "moderator"})
    assert response.status_code == 200
    assert response.json()["role"] == "moderator"
    response = api.patch(_url("circle", f"members/{member.pk}/"), {"status": "lapsed"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert (member.role, member.status) == ("moderator", "lapsed")
    events = list(
        CommunityAuditLog.objects.filter(
            membership=member, actor=organiser.user, event__in=["role_changed", "status_changed"]
        )
        .order_by("pk")
        .values_list("event", "data")
    )
    assert events == [
        ("role_changed", {"from": "member", "to": "moderator"}),
        ("status_changed", {"from": "active", "to": "lapsed"}),
    ]
    # an organiser still reaches a member who is not active, to make them active again
    response = api.patch(_url("circle", f"members/{member.pk}/"), {"status": "active"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.status == "active"


def test_the_last_organiser_cannot_demote_themself(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.force_authenticate(organiser.user)
    response = api.patch(_url("circle", f"members/{organiser.pk}/"), {"role": "member"})
    assert response.status_code == 400
    assert response.json() == {"role": ["A community needs at least one active organiser."]}
    organiser.refresh_from_db()
    assert organiser.role == Membership.Role.ORGANISER


# --- Import ------------------------------------------------------------------------------------


def test_member_import_adds_good_rows_and_reports_bad_ones(
    api: APIClient, community: Community, organiser: Membership, member: Membership
) -> None:
    # given
    api.force_authenticate(organiser.user)
    upload = _csv(
        "email,handle,real_name,city,skills,role\n"
        "ann@example.com,ann,Ann Li,上海,Planning;Copywriting,\n"
        "not-an-email,bad,,,,\n"
        f"{member.user.email},dup,,,,\n"
        "cat@example.com,cat,,,Knitting,\n"
        "dan@example.com,dan,,,,moderator\n"
    )
    # when
    response = api.post(_url("circle", "members/import/"), {"file": upload}, format="multipart")
    # then
    assert response.status_code == 200
    ann = Membership.objects.get(community=community, user__email="ann@example.com")
    dan = Membership.objects.get(community=community, user__email="dan@example.com")
    assert response.json() == {
        "added": 2,
        "rejected": 3,
        "rows": [
            {
                "line": 2,
                "email": "ann@example.com",
                "outcome": "added",
                "errors": {},
                "member": ann.pk,
            },
            {
                "line": 3,
                "email": "not-an-email",
                "outcome": "rejected",
                "errors": {"email": ["Enter a valid e-mail address."]},
                "member": None,
            },
            {
                "line": 4,
                "email": member.user.email,
                "outcome": "rejected",
                "errors": {"email": ["This person is already an active member."]},
                "member": None,
            },
            {
                "line": 5,
                "email": "cat@example.com",
                "outcome": "rejected",
                "errors": {"skills": ["Unknown tag: Knitting. Add it to the vocabulary first."]},
                "member": None,
            },
            {
                "line": 6,
                "email": "dan@example.com",
                "outcome": "added",
                "errors": {},
                "member": dan.pk,
            },
        ],
    }
    assert (ann.profile.handle, ann.profile.real_name, ann.profile.city) == (
        "ann",
        "Ann Li",
        "上海",
    )
    assert sorted(t.name for t in ann.profile.tags.all()) == ["Copywriting", "Planning"]
    assert dan.role == Membership.Role.MODERATOR
    assert not User.objects.filter(email="cat@example.com").exists()
    assert CommunityAuditLog.objects.get(event=MemberEvent.MEMBERS_IMPORTED).data == {
        "added": 2,
        "rejected": 3,
    }


def test_member_import_can_add_unknown_tags(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.force_authenticate(organiser.user)
    upload = _csv("email,skills\ncat@example.com,Knitting\n")
    response = api.post(
        _url("circle", "members/import/"),
        {"file": upload, "create_tags": "true"},
        format="multipart",
    )
    assert response.status_code == 200
    assert (response.json()["added"], response.json()["rejected"]) == (1, 0)
    assert Tag.objects.filter(community=community, kind="skill", name="Knitting").exists()


def test_member_import_of_an_unreadable_file_is_400_and_imports_nothing(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    memberships = Membership.objects.count()
    api.force_authenticate(organiser.user)
    response = api.post(
        _url("circle", "members/import/"),
        {"file": _csv("name,phone\nAnn,123\n")},
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert "Unknown: name, phone." in response.json()["file"][0]
    assert Membership.objects.count() == memberships


def test_member_import_reads_gb18030(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.force_authenticate(organiser.user)
    upload = SimpleUploadedFile("m.csv", "email,city\nwang@example.com,上海\n".encode("gb18030"))
    response = api.post(_url("circle", "members/import/"), {"file": upload}, format="multipart")
    assert response.status_code == 200
    assert response.json()["added"] == 1
    assert Profile.objects.get(membership__user__email="wang@example.com").city == "上海"


# --- Tags and the matcher ----------------------------------------------------------------------


def test_tags_list_is_the_vocabulary_by_kind_then_name(
    api: APIClient, community: Community, member: Membership
) -> None:
    api.force_authenticate(member.user)
    response = api.get(_url("circle", "tags/"))
    assert response.status_code == 200
    assert [(t["kind"], t["name"]) for t in response.json()] == [
        ("skill", "Channel and resource integration"),
        ("skill", "Copywriting"),
        ("skill", "Interaction design"),
        ("skill", "Planning"),
        ("skill", "Structured thinking"),
        ("need", "Cross-industry information"),
        ("need", "Guidance"),
        ("need", "Hiring"),
        ("need", "Hot topics"),
        ("need", "Job seeking"),
        ("need", "Product and operations technique"),
        ("need", "Solving a work problem"),
    ]
    ids = {t.name: t.pk for t in Tag.objects.filter(community=community)}
    assert all(t["id"] == ids[t["name"]] for t in response.json())


def test_a_member_adds_a_tag(api: APIClient, community: Community, member: Membership) -> None:
    api.force_authenticate(member.user)
    response = api.post(_url("circle", "tags/"), {"kind": "hobby", "name": " 围棋 "})
    assert response.status_code == 201
    tag = Tag.objects.get(community=community, kind="hobby")
    assert response.json() == {"id": tag.pk, "kind": "hobby", "name": "围棋"}
    assert tag.created_by == member
    again = api.post(_url("circle", "tags/"), {"kind": "hobby", "name": "围棋"})
    assert again.status_code == 400
    assert again.json() == {"name": ["This tag is already in the vocabulary."]}
    assert Tag.objects.filter(community=community, kind="hobby").count() == 1


def test_matcher_ranks_by_number_of_matching_skills(
    api: APIClient, community: Community, moderator: Membership
) -> None:
    # given
    one = add_member(community, profile={"handle": "one", "skills": ["Planning"]})
    two = add_member(community, profile={"handle": "two", "skills": ["Planning", "Copywriting"]})
    also_one = add_member(community, profile={"handle": "also-one", "skills": ["Copywriting"]})
    add_member(community, profile={"handle": "none", "skills": ["Interaction design"]})
    add_member(community, profile={"handle": "needs-only", "needs": ["Guidance"]})
    set_status(
        add_member(community, profile={"handle": "lapsed", "skills": ["Planning", "Copywriting"]}),
        Membership.Status.LAPSED,
    )
    api.force_authenticate(moderator.user)
    # when
    response = api.get(_url("circle", "matcher/"), {"tags": ["planning", "Copywriting"]})
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert [(r["score"], r["profile"]["id"], r["profile"]["handle"]) for r in data["results"]] == [
        (2, two.pk, "two"),
        (1, also_one.pk, "also-one"),
        (1, one.pk, "one"),
    ]
    assert data["results"][0]["profile"]["skills"] == ["Copywriting", "Planning"]


def test_matcher_takes_comma_separated_tags_and_needs_one(
    api: APIClient, community: Community, moderator: Membership
) -> None:
    add_member(community, profile={"handle": "two", "skills": ["Planning", "Copywriting"]})
    api.force_authenticate(moderator.user)
    response = api.get(_url("circle", "matcher/"), {"tags": "Planning,Copywriting"})
    assert [r["score"] for r in response.json()["results"]] == [2]
    response = api.get(_url("circle", "matcher/"))
    assert response.status_code == 400
    assert response.json() == {"tags": ["Give at least one tag to match."]}


# --- Schema and docs ---------------------------------------------------------------------------

CONTRACT_PATHS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/communities/": {"get", "post"},
    "/api/v1/communities/{slug}/": {"get", "patch"},
    "/api/v1/communities/{slug}/members/": {"get", "post"},
    "/api/v1/communities/{slug}/members/{membership_id}/": {"get", "patch"},
    "/api/v1/communities/{slug}/members/me/": {"get", "patch"},
    "/api/v1/communities/{slug}/members/import/": {"post"},
    "/api/v1/communities/{slug}/members/export/": {"get"},
    "/api/v1/communities/{slug}/tags/": {"get", "post"},
    "/api/v1/communities/{slug}/matcher/": {"get"},
}


def test_schema_describes_every_contract_path(api: APIClient, db: None) -> None:
    # when
    response = api.get("/api/schema/", {"format": "json"})
    # then
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "Community API"
    for path, methods in CONTRACT_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path
    token = schema["paths"]["/api/v1/auth/token/"]["post"]
    body = token["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(schema["components"]["schemas"][body]["required"]) == {"username", "password"}
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    matcher = schema["paths"]["/api/v1/communities/{slug}/matcher/"]["get"]
    assert "tags" in {p["name"] for p in matcher["parameters"]}


def test_schema_default_format_is_yaml_naming_every_path(api: APIClient, db: None) -> None:
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    text = response.content.decode()
    assert text.startswith("openapi: 3.")
    for path in CONTRACT_PATHS:
        assert f"{path}:" in text, path


def test_docs_page(api: APIClient, db: None) -> None:
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "/api/schema/" in page
