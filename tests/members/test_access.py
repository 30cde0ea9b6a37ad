"""Who may and who may not, for each role (SPEC §1, §4), on the portal and the API.

Every row of the matrix is tried by every kind of viewer: the allowed ones get the page or the
change, the others get 403 (signed in), a redirect to the login page (portal, anonymous) or 401
(API, anonymous) — and then nothing has changed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from community.api import exception_handler
from members import access
from members.models import Community, CommunityAuditLog, Membership, Profile, Tag, User
from tests.factories import (
    PASSWORD,
    UserFactory,
    add_member,
    make_community,
    organiser_of,
    set_status,
)
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

Role = Membership.Role
Status = Membership.Status

VIEWERS = [
    "anonymous",
    "outsider",
    "other_organiser",
    "candidate",
    "pending",
    "lapsed",
    "left",
    "member",
    "moderator",
    "organiser",
]
READERS = {"member", "moderator", "organiser", "lapsed"}
PROFILE_EDITORS = {"member", "moderator", "organiser", "candidate"}
PROFILE_READERS = PROFILE_EDITORS | {"lapsed"}  # lapsed members are read-only
TAG_ADDERS = {"member", "moderator", "organiser"}
MODERATORS = {"moderator", "organiser"}
ORGANISERS = {"organiser"}


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    path: str  # {target} is the id of another active member
    allowed: set[str]
    ok: int
    data: dict[str, Any] | None = None


PORTAL = [
    Action("directory", "get", "/c/circle/members/", READERS, 200),
    Action("profile", "get", "/c/circle/members/{target}/", READERS, 200),
    Action("my_profile", "get", "/c/circle/me/", PROFILE_READERS, 200),
    Action("my_profile_save", "post", "/c/circle/me/", PROFILE_EDITORS, 302, {"handle": "nu"}),
    Action("tag_add", "post", "/c/circle/tags/", TAG_ADDERS, 302, {"kind": "skill", "name": "T"}),
    Action("matcher", "get", "/c/circle/matcher/", MODERATORS, 200),
    Action("export", "get", "/c/circle/members/export.csv", ORGANISERS, 200),
    Action("settings", "get", "/c/circle/settings/", ORGANISERS, 200),
    Action("member_add", "get", "/c/circle/members/add/", ORGANISERS, 200),
    Action("member_import", "get", "/c/circle/members/import/", ORGANISERS, 200),
    Action(
        "role_change",
        "post",
        "/c/circle/members/{target}/",
        ORGANISERS,
        302,
        {"role": "moderator", "status": "active"},
    ),
    Action("enter_growth", "post", "/c/circle/settings/growth/", ORGANISERS, 302),
]

API = [
    Action("community", "get", "/api/v1/communities/circle/", READERS, 200),
    Action(
        "community_patch",
        "patch",
        "/api/v1/communities/circle/",
        ORGANISERS,
        200,
        {"entrance_fee": 1},
    ),
    Action("directory", "get", "/api/v1/communities/circle/members/", READERS, 200),
    Action("profile", "get", "/api/v1/communities/circle/members/{target}/", READERS, 200),
    Action("tags", "get", "/api/v1/communities/circle/tags/", READERS, 200),
    Action("me", "get", "/api/v1/communities/circle/members/me/", PROFILE_READERS, 200),
    Action(
        "me_patch",
        "patch",
        "/api/v1/communities/circle/members/me/",
        PROFILE_EDITORS,
        200,
        {"city": "杭州"},
    ),
    Action(
        "tag_add",
        "post",
        "/api/v1/communities/circle/tags/",
        TAG_ADDERS,
        201,
        {"kind": "skill", "name": "T"},
    ),
    Action(
        "matcher",
        "get",
        "/api/v1/communities/circle/matcher/?tags=Planning",
        MODERATORS,
        200,
    ),
    Action("export", "get", "/api/v1/communities/circle/members/export/", ORGANISERS, 200),
    Action(
        "member_add",
        "post",
        "/api/v1/communities/circle/members/",
        ORGANISERS,
        201,
        {"email": "new@example.com"},
    ),
    Action(
        "role_change",
        "patch",
        "/api/v1/communities/circle/members/{target}/",
        ORGANISERS,
        200,
        {"role": "moderator"},
    ),
    Action("import", "post", "/api/v1/communities/circle/members/import/", ORGANISERS, 200),
]


def _viewer(kind: str, community: Community) -> User | None:
    """A user standing in ``community`` as ``kind`` says."""
    if kind == "anonymous":
        return None
    if kind == "outsider":
        return UserFactory()
    if kind == "other_organiser":
        return organiser_of(make_community(slug="elsewhere")).user
    if kind == "organiser":
        return organiser_of(community).user
    membership = add_member(community, profile={"handle": kind})
    if kind == "candidate":
        set_status(membership, Status.ACTIVE, role=Role.CANDIDATE)
    elif kind == "moderator":
        set_status(membership, Status.ACTIVE, role=Role.MODERATOR)
    elif kind in ("pending", "lapsed", "left"):
        set_status(membership, kind)
    return membership.user


def _state(community: Community, target: Membership) -> dict[str, Any]:
    """Everything an action in the matrix could change."""
    community.refresh_from_db()
    target.refresh_from_db()
    return {
        "community": model_to_dict(community),
        "target": (target.role, target.status),
        "profiles": sorted(
            Profile.objects.filter(community=community).values_list("handle", "city", "real_name")
        ),
        "profile_tags": Profile.tags.through.objects.count(),
        "tags": Tag.objects.count(),
        "users": User.objects.count(),
        "memberships": sorted(Membership.objects.values_list("pk", "role", "status")),
        "audit": CommunityAuditLog.objects.count(),
    }


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- The matrix's world, built once for the module (tests/worlds.py) ----------------------------


@dataclass
class World:
    community: Community
    target: Membership  # another active member, whom the actions name
    viewers: dict[str, User | None]  # one of each kind in VIEWERS


def build_world() -> World:
    """The community as tests/conftest.py makes it, a member with a skill the matcher finds, the
    target, and a viewer of every kind (each made by ``_viewer``, as the tests made theirs)."""
    community = make_community(slug="circle", name="Circle")
    add_member(community, profile={"handle": "skilled", "skills": ["Planning"]})
    target = add_member(community, profile={"handle": "target"})
    viewers = {kind: _viewer(kind, community) for kind in VIEWERS}
    return World(community=community, target=target, viewers=viewers)


@pytest.fixture(scope="module")
def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with shared_world(django_db_blocker):
        yield settled(build_world())


@pytest.fixture
def world(_world: World, db: None) -> World:
    return fresh(_world)


@pytest.fixture
def community(_world: World, db: None) -> Community:
    """The tests outside the matrix build their own community, as tests/conftest.py does, with
    only the people they add: the matrix's world, which has taken its addresses for the
    module, steps aside for them (renamed in the test's savepoint, so only for that test)."""
    for slug in ("circle", "elsewhere"):
        Community.objects.filter(slug=slug).update(slug=f"{slug}-shared-world")
    return make_community(slug="circle", name="Circle")


@pytest.mark.parametrize("action", PORTAL, ids=[a.name for a in PORTAL])
@pytest.mark.parametrize("kind", VIEWERS)
def test_portal_permissions(client: Client, world: World, kind: str, action: Action) -> None:
    # given
    community, target = world.community, world.target
    user = world.viewers[kind]
    if user is not None:
        client.force_login(user)
    before = _state(community, target)
    path = action.path.format(target=target.pk)
    # when
    response = getattr(client, action.method)(path, action.data or {})
    _body(response)
    # then
    if kind in action.allowed:
        assert response.status_code == action.ok
        # a read changes nothing; a write changes something
        assert (_state(community, target) == before) == (action.method == "get")
    elif user is None:
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"
        assert _state(community, target) == before
    else:
        assert response.status_code == 403
        assert _state(community, target) == before


@pytest.mark.parametrize("action", API, ids=[a.name for a in API])
@pytest.mark.parametrize("kind", VIEWERS)
def test_api_permissions(api: APIClient, world: World, kind: str, action: Action) -> None:
    # given
    community, target = world.community, world.target
    user = world.viewers[kind]
    if user is not None:
        api.force_authenticate(user)
    before = _state(community, target)
    path = action.path.format(target=target.pk)
    # when
    if action.name == "import":
        upload = SimpleUploadedFile("m.csv", b"email\nimported@example.com\n")
        response = api.post(path, {"file": upload}, format="multipart")
    else:
        response = getattr(api, action.method)(path, action.data)
    _body(response)
    # then
    if kind in action.allowed:
        assert response.status_code == action.ok
        # a read changes nothing; a write changes something
        assert (_state(community, target) == before) == (action.method == "get")
    else:
        assert response.status_code == (401 if user is None else 403)
        assert _state(community, target) == before


def test_allowed_portal_writes_take_effect(client: Client, community: Community) -> None:
    """The other half of the matrix: what the 302s above did."""
    organiser = organiser_of(community)
    target = add_member(community, profile={"handle": "target"})
    client.force_login(organiser.user)
    client.post("/c/circle/me/", {"handle": "boss", "city": "上海"})
    client.post("/c/circle/tags/", {"kind": "hobby", "name": "围棋"})
    client.post(f"/c/circle/members/{target.pk}/", {"role": "moderator", "status": "active"})
    client.post("/c/circle/settings/growth/")
    organiser.profile.refresh_from_db()
    target.refresh_from_db()
    community.refresh_from_db()
    assert (organiser.profile.handle, organiser.profile.city) == ("boss", "上海")
    assert Tag.objects.filter(community=community, kind="hobby", name="围棋").exists()
    assert target.role == Role.MODERATOR
    assert community.phase == Community.Phase.GROWTH


@pytest.mark.parametrize(
    "path",
    [
        "/c/nowhere/members/",
        "/c/nowhere/members/1/",
        "/c/nowhere/me/",
        "/c/nowhere/matcher/",
        "/c/nowhere/settings/",
        "/c/nowhere/members/add/",
        "/c/nowhere/members/import/",
        "/c/nowhere/members/export.csv",
        "/c/nowhere/",
        "/api/v1/communities/nowhere/",
        "/api/v1/communities/nowhere/members/",
        "/api/v1/communities/nowhere/members/1/",
        "/api/v1/communities/nowhere/members/me/",
        "/api/v1/communities/nowhere/members/export/",
        "/api/v1/communities/nowhere/tags/",
        "/api/v1/communities/nowhere/matcher/?tags=Planning",
    ],
)
def test_a_signed_in_non_member_gets_404_for_an_unknown_community(
    client: Client, community: Community, path: str
) -> None:
    client.force_login(UserFactory())
    assert client.get(path).status_code == 404


def test_the_landing_page_is_public(client: Client, community: Community) -> None:
    response = client.get("/c/circle/")
    assert response.status_code == 200
    assert "Circle" in response.content.decode()


def test_a_member_cannot_list_members_who_are_not_active(
    api: APIClient, community: Community, member: Membership, organiser: Membership
) -> None:
    set_status(add_member(community, profile={"handle": "gone"}), Status.LAPSED)
    api.force_authenticate(member.user)
    response = api.get("/api/v1/communities/circle/members/", {"status": "lapsed"})
    assert response.status_code == 400
    assert response.json() == {"status": ["Only organisers can list members who are not active."]}
    api.force_authenticate(organiser.user)
    response = api.get("/api/v1/communities/circle/members/", {"status": "lapsed"})
    assert [p["handle"] for p in response.json()["results"]] == ["gone"]


def test_a_member_cannot_open_the_profile_of_a_lapsed_member_but_an_organiser_can(
    api: APIClient, community: Community, member: Membership, organiser: Membership
) -> None:
    lapsed = set_status(add_member(community, profile={"handle": "gone"}), Status.LAPSED)
    candidate = set_status(add_member(community), Status.ACTIVE, role=Role.CANDIDATE)
    api.force_authenticate(member.user)
    assert api.get(f"/api/v1/communities/circle/members/{lapsed.pk}/").status_code == 404
    assert api.get(f"/api/v1/communities/circle/members/{candidate.pk}/").status_code == 404
    api.force_authenticate(organiser.user)
    assert api.get(f"/api/v1/communities/circle/members/{lapsed.pk}/").status_code == 200
    assert api.get(f"/api/v1/communities/circle/members/{candidate.pk}/").status_code == 200


def test_a_lapsed_member_can_still_read_their_own_profile(
    api: APIClient, community: Community
) -> None:
    lapsed = set_status(add_member(community, profile={"handle": "gone"}), Status.LAPSED)
    api.force_authenticate(lapsed.user)
    response = api.get("/api/v1/communities/circle/members/me/")
    assert response.status_code == 200
    assert response.json()["handle"] == "gone"


# --- One community's organiser has no powers in another ----------------------------------------


@pytest.fixture
def elsewhere_organiser(community: Community) -> Membership:
    """The organiser of another community, who is a plain member of ``community``."""
    elsewhere = make_community(slug="elsewhere")
    organiser = organiser_of(elsewhere)
    add_member(community, user=organiser.user)
    return organiser


def test_an_organiser_of_another_community_is_a_plain_member_here(
    api: APIClient, community: Community, elsewhere_organiser: Membership, member: Membership
) -> None:
    # given
    api.force_authenticate(elsewhere_organiser.user)
    # when / then: reading as a member works, organiser powers do not
    assert api.get("/api/v1/communities/circle/members/").status_code == 200
    assert api.patch("/api/v1/communities/circle/", {"entrance_fee": 1}).status_code == 403
    response = api.patch(f"/api/v1/communities/circle/members/{member.pk}/", {"role": "moderator"})
    assert response.status_code == 403
    response = api.post("/api/v1/communities/circle/members/", {"email": "x@example.com"})
    assert response.status_code == 403
    assert api.get("/api/v1/communities/circle/matcher/?tags=Planning").status_code == 403
    community.refresh_from_db()
    member.refresh_from_db()
    assert (community.entrance_fee, member.role) == (20000, Role.MEMBER)
    assert not User.objects.filter(email="x@example.com").exists()


def test_an_organiser_cannot_reach_another_communitys_member_through_their_own(
    api: APIClient, client: Client, community: Community, member: Membership
) -> None:
    # given the organiser of "elsewhere", using the id of a member of "circle"
    outsider = organiser_of(make_community(slug="elsewhere"))
    api.force_authenticate(outsider.user)
    client.force_login(outsider.user)
    path = f"/api/v1/communities/elsewhere/members/{member.pk}/"
    # when / then
    assert api.get(path).status_code == 404
    assert api.patch(path, {"role": "organiser", "status": "left"}).status_code == 404
    portal = f"/c/elsewhere/members/{member.pk}/"
    assert client.get(portal).status_code == 404
    assert client.post(portal, {"role": "organiser", "status": "left"}).status_code == 404
    member.refresh_from_db()
    assert (member.role, member.status) == (Role.MEMBER, Status.ACTIVE)
    assert not CommunityAuditLog.objects.filter(
        event__in=["role_changed", "status_changed"]
    ).exists()


# --- Money pages: organisers with TOTP ----------------------------------------------------------


def _with_totp(user: User) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _request(user: User, *, mfa: bool = False, token: Token | None = None) -> HttpRequest:
    """A signed-in request; ``mfa`` records (as allauth does) that the sign-in passed TOTP;
    ``token`` stands for DRF's ``request.auth`` of a token-authenticated API call."""
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = user
    if mfa:
        record_authentication(request, user, method="mfa", type="totp")
    if token is not None:
        request.auth = token  # type: ignore[attr-defined]
    return request


def test_money_needs_totp_when_required(settings: Any, organiser: Membership) -> None:
    # given
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = True
    # when
    with pytest.raises(access.MFARequired) as excinfo:
        access.access_money(request=_request(organiser.user), slug="circle")
    # then it is a 403
    assert isinstance(excinfo.value, PermissionDenied)
    response = exception_handler(excinfo.value, {})
    assert response is not None
    assert response.status_code == 403
    assert "two-factor authentication" in response.data["detail"]


def test_money_needs_a_sign_in_that_used_the_code(settings: Any, organiser: Membership) -> None:
    # given TOTP is set up, but this session signed in with the password alone
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = True
    _with_totp(organiser.user)
    with pytest.raises(access.MFARequired):
        access.access_money(request=_request(organiser.user), slug="circle")
    # when the sign-in passed the second factor
    request = _request(organiser.user, mfa=True)
    # then
    assert access.access_money(request=request, slug="circle") == organiser


def test_money_through_a_token_issued_after_totp(settings: Any, organiser: Membership) -> None:
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = True
    old_token = Token.objects.create(user=organiser.user)
    _with_totp(organiser.user)
    with pytest.raises(access.MFARequired):
        access.access_money(request=_request(organiser.user, token=old_token), slug="circle")
    old_token.delete()
    new_token = Token.objects.create(user=organiser.user)
    request = _request(organiser.user, token=new_token)
    assert access.access_money(request=request, slug="circle") == organiser


def test_money_recovery_codes_alone_are_not_enough(settings: Any, organiser: Membership) -> None:
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = True
    RecoveryCodes.activate(organiser.user)
    with pytest.raises(access.MFARequired):
        access.access_money(request=_request(organiser.user, mfa=True), slug="circle")


def test_money_without_the_setting_needs_no_totp(settings: Any, organiser: Membership) -> None:
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = False
    assert access.access_money(request=_request(organiser.user), slug="circle") == organiser


@pytest.mark.parametrize("required", [True, False])
@pytest.mark.parametrize("totp", [True, False])
def test_money_is_never_for_a_moderator(
    settings: Any, moderator: Membership, required: bool, totp: bool
) -> None:
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = required
    if totp:
        _with_totp(moderator.user)
    with pytest.raises(PermissionDenied) as excinfo:
        access.access_money(request=_request(moderator.user, mfa=totp), slug="circle")
    assert not isinstance(excinfo.value, access.MFARequired)
    assert str(excinfo.value) == "Only organisers of this community can do this."


def test_money_of_another_community_is_refused_even_with_totp(
    settings: Any, organiser: Membership
) -> None:
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = True
    _with_totp(organiser.user)
    make_community(slug="elsewhere")
    with pytest.raises(PermissionDenied):
        access.access_money(request=_request(organiser.user, mfa=True), slug="elsewhere")


def test_money_for_an_unknown_community_is_404(organiser: Membership) -> None:
    with pytest.raises(Http404):
        access.access_money(request=_request(organiser.user), slug="nowhere")


def test_the_staff_admin_signs_in_through_allauth(client: Client, db: None) -> None:
    # Django's own admin login form would skip two-factor authentication and rate limits.
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- Login rate limit ----------------------------------------------------------------------------


def test_repeated_failed_logins_are_rate_limited(client: Client, db: None) -> None:
    # given
    user = UserFactory()
    # when
    statuses = [
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"}).status_code
        for _ in range(31)
    ]
    # then: allauth's "login" limit (30/m/ip) answers 429
    assert statuses == [200] * 30 + [429]
    assert "_auth_user_id" not in client.session


def test_after_five_failures_even_the_right_password_is_refused_for_a_while(
    client: Client, db: None
) -> None:
    user = UserFactory()
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- The rotating moderator on duty (SPEC §2.6) ------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the community's time zone; its weeks start on Monday
W45 = datetime.date(2026, 11, 2)
WEDNESDAY_W45 = datetime.datetime(2026, 11, 4, 12, 0, tzinfo=SHANGHAI)
WEEK = datetime.timedelta(days=7)


@pytest.fixture
def on_duty(community: Community, time_machine: time_machine.TimeMachineFixture) -> Membership:
    """A plain member whose shift is 2026-W45, seen on that week's Wednesday."""
    time_machine.move_to(WEDNESDAY_W45)
    member = add_member(community, profile={"handle": "duty"})
    Membership.objects.filter(pk=member.pk).update(on_duty_week=W45)
    return Membership.objects.select_related("community", "user").get(pk=member.pk)


@pytest.mark.parametrize(
    ("moment", "powers"),
    [
        (datetime.datetime(2026, 11, 2, 0, 0, tzinfo=SHANGHAI), True),  # the week's first minute
        (WEDNESDAY_W45, True),
        (datetime.datetime(2026, 11, 8, 23, 59, tzinfo=SHANGHAI), True),  # its last minute
        (datetime.datetime(2026, 11, 1, 23, 59, tzinfo=SHANGHAI), False),  # the week before
        (WEDNESDAY_W45 - WEEK, False),
        (datetime.datetime(2026, 11, 9, 0, 0, tzinfo=SHANGHAI), False),  # the week after
        (WEDNESDAY_W45 + WEEK, False),
    ],
)
def test_the_member_on_duty_has_moderator_powers_in_their_week_only(
    on_duty: Membership,
    time_machine: time_machine.TimeMachineFixture,
    moment: datetime.datetime,
    powers: bool,
) -> None:
    time_machine.move_to(moment)
    assert access.on_duty(on_duty) is powers
    assert access.has_moderator_powers(on_duty) is powers
    assert on_duty.is_moderator is powers
    # the rest of what they are does not change with the duty
    assert access.is_writer(on_duty) is True
    assert on_duty.is_organiser is False


@pytest.mark.parametrize(
    ("status", "role"),
    [
        (Status.LAPSED, None),
        (Status.LEFT, None),
        (Status.PENDING, None),
        (Status.ACTIVE, Role.CANDIDATE),
    ],
)
def test_only_an_active_member_is_on_duty(
    on_duty: Membership, status: str, role: str | None
) -> None:
    # given the shift is this week, but the membership is not an active member's
    set_status(on_duty, status, role)
    # then it grants nothing
    assert access.on_duty(on_duty) is False
    assert access.has_moderator_powers(on_duty) is False
    assert on_duty.is_moderator is False


def test_moderators_and_organisers_keep_their_powers_without_a_shift(
    community: Community, moderator: Membership, organiser: Membership, member: Membership
) -> None:
    assert access.has_moderator_powers(moderator) is True
    assert access.has_moderator_powers(organiser) is True
    assert access.has_moderator_powers(member) is False
    set_status(moderator, Status.LAPSED)
    assert access.has_moderator_powers(moderator) is False


def test_the_member_on_duty_reaches_the_moderators_pages_in_their_week_only(
    client: Client, on_duty: Membership, time_machine: time_machine.TimeMachineFixture
) -> None:
    slug = on_duty.community.slug
    for moment, expected in (
        (WEDNESDAY_W45, 200),
        (WEDNESDAY_W45 + WEEK, 403),
        (WEDNESDAY_W45 - WEEK, 403),
    ):
        time_machine.move_to(moment)
        client.force_login(on_duty.user)
        assert client.get(f"/c/{slug}/matcher/").status_code == expected, moment
        assert client.get(f"/c/{slug}/briefs/").status_code == expected, moment


def test_the_member_on_duty_reaches_the_matcher_api_in_their_week_only(
    api: APIClient, on_duty: Membership, time_machine: time_machine.TimeMachineFixture
) -> None:
    api.force_authenticate(on_duty.user)
    path = f"/api/v1/communities/{on_duty.community.slug}/matcher/?tags=Planning"
    assert api.get(path).status_code == 200
    time_machine.move_to(WEDNESDAY_W45 + WEEK)
    assert api.get(path).status_code == 403


def test_the_duty_check_needs_no_query_beyond_the_access_check(
    on_duty: Membership, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        viewer = access.access_moderation(user=on_duty.user, slug=on_duty.community.slug)
    with django_assert_num_queries(0):
        assert access.has_moderator_powers(viewer) is True
        assert viewer.is_moderator is True


def test_a_plain_members_check_never_reads_the_community(
    member: Membership, django_assert_num_queries: Any
) -> None:
    # given a membership fetched without its community
    plain = Membership.objects.get(pk=member.pk)
    # then deciding it has no powers costs nothing
    with django_assert_num_queries(0):
        assert access.has_moderator_powers(plain) is False


def test_memberships_with_moderator_powers_follow_the_duty(
    on_duty: Membership, time_machine: time_machine.TimeMachineFixture
) -> None:
    other = make_community(slug="elsewhere")
    add_member(other, role=Role.MODERATOR, user=on_duty.user)
    found = access.memberships_with_moderator_powers(user=on_duty.user)
    assert sorted(m.community.slug for m in found) == ["circle", "elsewhere"]
    time_machine.move_to(WEDNESDAY_W45 + WEEK)
    found = access.memberships_with_moderator_powers(user=on_duty.user)
    assert [m.community.slug for m in found] == ["elsewhere"]
