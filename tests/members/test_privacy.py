"""Staged privacy (SPEC §2.1, CONVENTIONS "Privacy") on every surface a profile reaches.

The world: a community with an organiser, a moderator, a plain member and a fourth member,
the *subject* ("self" when they are the viewer). Each of the four has a real name and a company
that occur nowhere else, so a leak shows up as a substring of the response bytes.

The rule: in the seed phase everyone sees every field; in the growth phase a profile's real
name and company are seen only by the member themself and by organisers. Every surface is
walked by each kind of viewer in both phases.
"""

from __future__ import annotations

import ast
import csv
import datetime
import html
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members import privacy, selectors, services, weeks
from members.models import Community, Membership, Profile
from questions import services as question_services
from questions.digests import delivery
from questions.digests import services as digest_services
from questions.models import Digest, DigestItem
from tests.factories import add_member, make_community, organiser_of, set_status
from tests.html import without_csrf_tokens
from tests.questions.helpers import published
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

SLUG = "circle"
API = f"/api/v1/communities/{SLUG}"
PORTAL = f"/c/{SLUG}"

PEOPLE = ("organiser", "moderator", "member", "self")
VIEWERS = PEOPLE
PHASES = ("seed", "growth")
MATRIX = pytest.mark.parametrize(
    ("viewer", "phase"), [(v, p) for p in PHASES for v in VIEWERS], ids=lambda x: x
)

HIDDEN = {
    "organiser": {"real_name": "Olga Foundername 欧创始", "company": "Rootcorp 根基集团"},
    "moderator": {"real_name": "Mateo Shiftname 莫轮值", "company": "Rotaworks 轮值工坊"},
    "member": {"real_name": "Mina Plainname 米平凡", "company": "Stillwater 静默事务所"},
    "self": {"real_name": "Zhou Secretname 周秘密", "company": "Hiddenco 隐藏公司"},
}
HANDLES = {"organiser": "boss", "moderator": "mod", "member": "plain", "self": "quiet-fox"}
SUBJECT_SHARED = {
    "role_title": "Staff Engineer",
    "industry": "Fintech",
    "city": "Shanghai",
    "career_path": "Support, then platform engineering",
    "skills": ["交互设计"],
    "needs": ["Hiring"],
    "hobbies": ["围棋"],
}
SHARED_KEYS = {
    "id",
    "role",
    "handle",
    "role_title",
    "industry",
    "career_path",
    "city",
    "skills",
    "needs",
    "hobbies",
}
HIDDEN_KEYS = {"real_name", "company"}
ALL_COLUMNS = [
    "id",
    "role",
    "handle",
    "real_name",
    "company",
    "role_title",
    "industry",
    "career_path",
    "city",
    "skills",
    "needs",
    "hobbies",
]
SHARED_COLUMNS = [c for c in ALL_COLUMNS if c not in HIDDEN_KEYS]


# --- the world -------------------------------------------------------------------------------


@dataclass
class World:
    community: Community
    people: dict[str, Membership]

    def user(self, name: str) -> Any:
        return self.people[name].user

    def id(self, name: str) -> int:
        return self.people[name].pk


@pytest.fixture
def phase() -> str:
    """Overridden by the tests parametrized over both phases."""
    return "growth"


def build_world() -> World:
    """The seed-phase world: the community, organiser, moderator and member made as
    tests/conftest.py makes them, their hidden values, and the subject."""
    community = make_community(slug=SLUG, name="Circle")
    organiser = organiser_of(community)
    moderator = add_member(community, role=Membership.Role.MODERATOR, profile={"handle": "mod"})
    member = add_member(community, profile={"handle": "plain"})
    services.profile_update(membership=organiser, data={"handle": "boss", **HIDDEN["organiser"]})
    services.profile_update(membership=moderator, data=HIDDEN["moderator"])
    services.profile_update(membership=member, data=HIDDEN["member"])
    subject = add_member(
        community, profile={"handle": "quiet-fox", **HIDDEN["self"], **SUBJECT_SHARED}
    )
    community.refresh_from_db()
    return World(
        community=community,
        people={"organiser": organiser, "moderator": moderator, "member": member, "self": subject},
    )


@pytest.fixture(scope="module")
def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module, in the seed phase (tests/worlds.py); every test's changes
    are rolled back."""
    with shared_world(django_db_blocker):
        yield settled(build_world())


@pytest.fixture
def world(_world: World, db: None, phase: str) -> World:
    """The world in ``phase``: a growth-phase test has the organiser switch phases first (in its
    own savepoint, rolled back after it), as each test's own world did when it was built."""
    world = fresh(_world)
    if phase == "growth":
        services.community_enter_growth(actor=world.people["organiser"], community=world.community)
    world.community.refresh_from_db()
    assert world.community.phase == phase
    return world


def may_see(viewer: str, person: str, phase: str) -> bool:
    """The rule under test, stated independently of members.privacy."""
    return phase == "seed" or viewer == "organiser" or viewer == person


def visible_to(viewer: str, phase: str) -> set[str]:
    return {p for p in PEOPLE if may_see(viewer, p, phase)}


def _fragments(person: str) -> list[str]:
    """Each hidden value and each word of it: a leak of part of a value is a leak."""
    return [part for value in HIDDEN[person].values() for part in (value, *value.split())]


def exposed(content: bytes | str, *, typed: str = "") -> set[str]:
    """The people any of whose hidden values (or a word of one) occur in ``content``, raw,
    JSON-escaped or HTML-escaped. Fragments inside ``typed`` (what the viewer sent, which a
    page may echo back to them) are not counted."""
    text = without_csrf_tokens(content)
    found = set()
    for person in PEOPLE:
        for fragment in _fragments(person):
            if fragment in typed:
                continue
            forms = {fragment, json.dumps(fragment)[1:-1], html.escape(fragment)}
            if any(form in text for form in forms):
                found.add(person)
    return found


def _around(text: str, person: str) -> list[str]:
    """Where a person's hidden values occur in a page, for the failure message."""
    spots = []
    for fragment in _fragments(person):
        at = text.find(fragment)
        if at >= 0:
            spots.append(text[max(0, at - 300) : at + 100])
    return spots


def assert_exposes(content: bytes | str, expected: set[str]) -> None:
    """Exactly ``expected`` people's hidden values are in ``content``, each of them whole."""
    text = without_csrf_tokens(content)
    found = exposed(text)
    assert found == expected, [_around(text, person) for person in found - expected]
    for person in expected:
        for value in HIDDEN[person].values():
            assert value in text


def body(response: Any) -> bytes:
    return response.getvalue() if response.streaming else response.content


def _login(client: Client, api: APIClient, world: World, viewer: str) -> None:
    client.force_login(world.user(viewer))
    api.force_authenticate(world.user(viewer))


def _api_object_check(obj: dict[str, Any], person: str, visible: bool) -> None:
    assert obj["handle"] == HANDLES[person]
    if visible:
        assert set(obj) == SHARED_KEYS | HIDDEN_KEYS
        assert {k: obj[k] for k in HIDDEN_KEYS} == HIDDEN[person]
    else:
        # Absent, not sent empty (SPEC §5).
        assert set(obj) == SHARED_KEYS


# --- portal pages ----------------------------------------------------------------------------


@MATRIX
def test_portal_directory_shows_hidden_fields_only_to_whom_may_see_them(
    client: Client, world: World, viewer: str, phase: str
) -> None:
    # given
    client.force_login(world.user(viewer))
    # when
    response = client.get(f"{PORTAL}/members/")
    # then
    assert response.status_code == 200
    cards = response.context["cards"]
    assert [c.handle for c in cards] == ["boss", "mod", "plain", "quiet-fox"]
    person_of = {h: p for p, h in HANDLES.items()}
    assert {c.handle: (c.real_name, c.company) for c in cards} == {
        HANDLES[p]: (
            (HIDDEN[p]["real_name"], HIDDEN[p]["company"])
            if may_see(viewer, p, phase)
            else (None, None)
        )
        for p in PEOPLE
    }
    assert all(c.hidden_withheld != may_see(viewer, person_of[c.handle], phase) for c in cards)
    assert_exposes(response.content, visible_to(viewer, phase))
    withheld = len(PEOPLE) - len(visible_to(viewer, phase))
    assert response.content.decode().count('class="withheld"') == withheld


@MATRIX
def test_portal_profile_page_shows_hidden_fields_only_to_whom_may_see_them(
    client: Client, world: World, viewer: str, phase: str
) -> None:
    client.force_login(world.user(viewer))
    for person in PEOPLE:
        # when
        response = client.get(f"{PORTAL}/members/{world.id(person)}/")
        # then
        assert response.status_code == 200
        card = response.context["card"]
        assert card.handle == HANDLES[person]
        if may_see(viewer, person, phase):
            assert (card.real_name, card.company) == tuple(HIDDEN[person].values())
            assert_exposes(response.content, {person})
        else:
            assert (card.real_name, card.company) == (None, None)
            assert_exposes(response.content, set())
            assert "private in the growth phase" in response.content.decode()


@MATRIX
def test_portal_my_profile_shows_only_the_viewers_own_hidden_fields(
    client: Client, world: World, viewer: str, phase: str
) -> None:
    client.force_login(world.user(viewer))
    # when
    response = client.get(f"{PORTAL}/me/")
    # then
    assert response.status_code == 200
    assert_exposes(response.content, {viewer})
    # The "how others see me" preview withholds the hidden fields from other members and
    # moderators in the growth phase, and shows them to the other audiences.
    text = response.content.decode()
    sections = re.findall(
        r'<section class="preview" data-audience="(\d)">(.*?)</section>', text, re.DOTALL
    )
    assert [n for n, _ in sections] == ["1", "2", "3"]
    seen = {n: exposed(section) for n, section in sections}
    assert seen == {"1": {viewer}, "2": set(), "3": {viewer}}
    assert "private in the growth phase" in sections[1][1]


# --- API -------------------------------------------------------------------------------------


@MATRIX
def test_api_directory_leaves_hidden_fields_out_for_those_who_may_not_see_them(
    api: APIClient, world: World, viewer: str, phase: str
) -> None:
    api.force_authenticate(world.user(viewer))
    # when
    response = api.get(f"{API}/members/")
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 4
    by_handle = {obj["handle"]: obj for obj in data["results"]}
    assert sorted(by_handle) == ["boss", "mod", "plain", "quiet-fox"]
    for person in PEOPLE:
        _api_object_check(by_handle[HANDLES[person]], person, may_see(viewer, person, phase))
    assert_exposes(response.content, visible_to(viewer, phase))


@MATRIX
def test_api_profile_leaves_hidden_fields_out_for_those_who_may_not_see_them(
    api: APIClient, world: World, viewer: str, phase: str
) -> None:
    api.force_authenticate(world.user(viewer))
    for person in PEOPLE:
        # when
        response = api.get(f"{API}/members/{world.id(person)}/")
        # then
        assert response.status_code == 200
        _api_object_check(response.json(), person, may_see(viewer, person, phase))
        assert_exposes(response.content, {person} if may_see(viewer, person, phase) else set())


@MATRIX
def test_api_me_shows_the_viewers_own_hidden_fields_and_no_one_elses(
    api: APIClient, world: World, viewer: str, phase: str
) -> None:
    api.force_authenticate(world.user(viewer))
    # when
    response = api.get(f"{API}/members/me/")
    # then
    assert response.status_code == 200
    _api_object_check(response.json(), viewer, visible=True)
    assert_exposes(response.content, {viewer})
    # and a PATCH answers in the same shape
    response = api.patch(f"{API}/members/me/", {"city": "杭州"}, format="json")
    assert response.status_code == 200
    assert response.json()["city"] == "杭州"
    _api_object_check(response.json(), viewer, visible=True)
    assert_exposes(response.content, {viewer})


@MATRIX
def test_api_matcher_and_portal_matcher_apply_privacy(
    client: Client, api: APIClient, world: World, viewer: str, phase: str
) -> None:
    _login(client, api, world, viewer)
    # when
    api_response = api.get(f"{API}/matcher/", {"tags": "交互设计"})
    portal_response = client.get(f"{PORTAL}/matcher/", {"tags": "交互设计"})
    # then
    if viewer in ("member", "self"):
        assert (api_response.status_code, portal_response.status_code) == (403, 403)
        assert exposed(api_response.content) == exposed(portal_response.content) == set()
        return
    assert (api_response.status_code, portal_response.status_code) == (200, 200)
    results = api_response.json()["results"]
    assert [(r["score"], r["profile"]["handle"]) for r in results] == [(1, "quiet-fox")]
    visible = may_see(viewer, "self", phase)
    _api_object_check(results[0]["profile"], "self", visible)
    assert_exposes(api_response.content, {"self"} if visible else set())
    assert_exposes(portal_response.content, {"self"} if visible else set())


# --- search ----------------------------------------------------------------------------------

# Queries that only a hidden value of the subject answers (whole values, single words in any
# case, a Latin prefix, a Chinese substring, and a shared word together with a hidden one).
HIDDEN_QUERIES = [
    "Zhou Secretname 周秘密",
    "secretname",
    "Secret",
    "周秘密",
    "秘密",
    "Hiddenco 隐藏公司",
    "HIDDENCO",
    "隐藏",
    "公司 Engineer",
    "Engineer Secretname",
]


@MATRIX
@pytest.mark.parametrize("query", HIDDEN_QUERIES)
def test_api_search_by_a_hidden_value_finds_only_for_whom_may_see_it(
    api: APIClient, world: World, viewer: str, phase: str, query: str
) -> None:
    api.force_authenticate(world.user(viewer))
    # when
    response = api.get(f"{API}/members/", {"q": query})
    # then
    assert response.status_code == 200
    data = response.json()
    if may_see(viewer, "self", phase):
        assert [r["handle"] for r in data["results"]] == ["quiet-fox"]
        assert_exposes(response.content, {"self"})
    else:
        assert (data["count"], data["results"]) == (0, [])
        assert exposed(response.content) == set()


@MATRIX
@pytest.mark.parametrize("query", HIDDEN_QUERIES)
def test_portal_search_by_a_hidden_value_finds_only_for_whom_may_see_it(
    client: Client, world: World, viewer: str, phase: str, query: str
) -> None:
    client.force_login(world.user(viewer))
    # when
    response = client.get(f"{PORTAL}/members/", {"q": query})
    # then
    assert response.status_code == 200
    text = response.content.decode()
    cards = response.context["cards"]
    if may_see(viewer, "self", phase):
        assert [c.handle for c in cards] == ["quiet-fox"]
        assert "1 member found" in text
        assert_exposes(text, {"self"})
    else:
        assert cards == []
        assert "data-member=" not in text
        # The search box echoes what the viewer typed; nothing else of anyone is shown.
        assert exposed(text, typed=query) == set()


@MATRIX
def test_search_by_shared_fields_finds_the_subject_for_every_viewer(
    client: Client, api: APIClient, world: World, viewer: str, phase: str
) -> None:
    # The control for the tests above: search itself works for these viewers.
    _login(client, api, world, viewer)
    for query in ("quiet", "交互设计", "设计", "fintech", "Staff Engineer", "围棋", "hiring"):
        api_response = api.get(f"{API}/members/", {"q": query})
        portal_response = client.get(f"{PORTAL}/members/", {"q": query})
        assert [r["handle"] for r in api_response.json()["results"]] == ["quiet-fox"], query
        assert [c.handle for c in portal_response.context["cards"]] == ["quiet-fox"], query


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("viewer", ["moderator", "member"])
def test_members_find_themselves_by_their_own_hidden_values(
    api: APIClient, world: World, viewer: str, phase: str
) -> None:
    api.force_authenticate(world.user(viewer))
    for value in HIDDEN[viewer].values():
        response = api.get(f"{API}/members/", {"q": value})
        assert [r["handle"] for r in response.json()["results"]] == [HANDLES[viewer]]
    # and by an organiser's only when the phase allows it
    response = api.get(f"{API}/members/", {"q": HIDDEN["organiser"]["company"]})
    expected = ["boss"] if phase == "seed" else []
    assert [r["handle"] for r in response.json()["results"]] == expected


@pytest.mark.parametrize("phase", ["seed"])
def test_reaching_the_threshold_hides_the_fields_at_once(
    api: APIClient, world: World, phase: str
) -> None:
    # given a seed-phase community of four active members whose threshold is five
    services.community_update(
        actor=world.people["organiser"], community=world.community, changes={"privacy_threshold": 5}
    )
    api.force_authenticate(world.user("member"))
    assert exposed(api.get(f"{API}/members/").content) == set(PEOPLE)
    # when a fifth member joins
    add_member(world.community, profile={"handle": "fifth"})
    # then the growth phase has begun and the plain member sees only their own hidden fields
    world.community.refresh_from_db()
    assert world.community.phase == Community.Phase.GROWTH
    response = api.get(f"{API}/members/")
    assert response.json()["count"] == 5
    assert_exposes(response.content, {"member"})
    response = api.get(f"{API}/members/", {"q": "Secretname"})
    assert response.json()["results"] == []


# --- CSV export ------------------------------------------------------------------------------


@MATRIX
@pytest.mark.parametrize("surface", ["portal", "api"])
def test_csv_export_applies_privacy_to_columns_and_values(
    client: Client, api: APIClient, world: World, viewer: str, phase: str, surface: str
) -> None:
    _login(client, api, world, viewer)
    # when
    if surface == "portal":
        response = client.get(f"{PORTAL}/members/export.csv")
    else:
        response = api.get(f"{API}/members/export/")
    # then only organisers export (moderators included, the others get nothing)
    if viewer != "organiser":
        assert response.status_code == 403
        assert exposed(body(response)) == set()
        return
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = body(response)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sees_all = phase == "seed" or viewer == "organiser"
    assert rows[0] == (ALL_COLUMNS if sees_all else SHARED_COLUMNS)
    records = {row[2]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert sorted(records) == ["boss", "mod", "plain", "quiet-fox"]
    expected_subject = {
        "id": str(world.id("self")),
        "role": "member",
        "handle": "quiet-fox",
        "role_title": "Staff Engineer",
        "industry": "Fintech",
        "career_path": "Support, then platform engineering",
        "city": "Shanghai",
        "skills": "交互设计",
        "needs": "Hiring",
        "hobbies": "围棋",
    }
    if sees_all:
        expected_subject.update(HIDDEN["self"])
    assert records["quiet-fox"] == expected_subject
    assert_exposes(content, set(PEOPLE) if sees_all else set())


@pytest.mark.parametrize("phase", PHASES)
def test_export_rows_for_a_non_organiser_leave_out_hidden_fields_in_growth(
    world: World, phase: str
) -> None:
    # The export module decides columns and values through privacy for any viewer (talent
    # pool and book exports will reuse it); a moderator in growth gets no hidden value.
    viewer = world.people["moderator"]
    community = world.community
    columns = privacy.export_columns(viewer=viewer, community=community)
    profiles = selectors.directory(
        viewer=viewer, community=community, filters=selectors.DirectoryFilters()
    )
    text = repr([privacy.export_row(viewer=viewer, profile=p, columns=columns) for p in profiles])
    if phase == "growth":
        assert "real_name" not in columns
        assert exposed(text.encode()) == set()
    else:
        assert columns[3:5] == ["real_name", "company"]
        assert exposed(text.encode()) == set(PEOPLE)


# --- error messages --------------------------------------------------------------------------


def _profile_state(membership: Membership) -> tuple[Any, ...]:
    profile = Profile.objects.get(pk=membership.pk)
    return (
        profile.handle,
        privacy.profile_data(viewer=membership, profile=profile),
        profile.search_document,
        profile.full_search_document,
    )


@pytest.mark.parametrize("viewer", ["member", "moderator"])
def test_api_errors_name_the_field_and_echo_no_hidden_value(
    api: APIClient, world: World, viewer: str
) -> None:
    # given a growth-phase community
    me = world.people[viewer]
    api.force_authenticate(me.user)
    before = _profile_state(me)
    cases: list[tuple[str, str, dict[str, Any] | None, int, set[str]]] = [
        ("patch", "/members/me/", {"handle": "quiet-fox"}, 400, {"handle"}),
        (
            "patch",
            "/members/me/",
            {"handle": "BOSS", "skills": ["Nope"]},
            400,
            {"handle", "skills"},
        ),
        ("patch", "/members/me/", {"real_name": "x" * 101}, 400, {"real_name"}),
        ("patch", "/members/me/", {"nickname": "x"}, 400, {"nickname"}),
        ("get", "/members/", {"skill": "Nope"}, 400, {"skill"}),
        ("get", "/members/", {"role": "boss"}, 400, {"role"}),
        ("get", "/members/", {"status": "left"}, 400, {"status"}),
        ("get", "/members/999999/", None, 404, {"detail"}),
        ("patch", f"/members/{world.id('self')}/", {"role": "moderator"}, 403, {"detail"}),
        ("post", "/members/", {"email": "x@example.com"}, 403, {"detail"}),
    ]
    for method, path, payload, status, fields in cases:
        # when
        if method == "get":
            response = api.get(API + path, payload)
        else:
            response = getattr(api, method)(API + path, payload, format="json")
        # then
        assert (response.status_code, set(response.json())) == (status, fields), (path, payload)
        assert exposed(response.content) == set(), (path, payload)
    # and nothing changed
    assert _profile_state(me) == before
    assert Membership.objects.get(pk=world.id("self")).role == "member"


@pytest.mark.parametrize("viewer", ["member", "moderator"])
def test_portal_form_errors_echo_no_hidden_value_of_others(
    client: Client, world: World, viewer: str
) -> None:
    me = world.people[viewer]
    client.force_login(me.user)
    before = _profile_state(me)
    # when the viewer takes the subject's handle
    response = client.post(f"{PORTAL}/me/", {"handle": "quiet-fox", **HIDDEN[viewer]})
    # then the form says so, showing only the viewer's own values
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["handle"]
    assert_exposes(response.content, {viewer})
    # when filtering by an unknown tag
    response = client.get(f"{PORTAL}/members/", {"skill": "Nope"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["skill"]
    assert response.context["cards"] == []
    assert exposed(response.content) == set()
    # when opening a profile that does not exist, or changing someone's role
    response = client.get(f"{PORTAL}/members/999999/")
    assert response.status_code == 404
    assert exposed(response.content) == set()
    response = client.post(f"{PORTAL}/members/{world.id('self')}/", {"role": "organiser"})
    assert response.status_code == 403
    assert exposed(response.content) == set()
    # and nothing changed
    assert _profile_state(me) == before
    assert Membership.objects.get(pk=world.id("self")).role == "member"


# --- e-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", PHASES)
def test_member_added_email_carries_no_other_members_hidden_values(
    api: APIClient,
    world: World,
    phase: str,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    api.force_authenticate(world.user("organiser"))
    # when an organiser adds a newcomer
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{API}/members/", {"email": "new.person@example.com"}, format="json")
    # then
    assert response.status_code == 201
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.person@example.com"]
    assert exposed(message.subject + message.body) == set()
    assert "quiet-fox" not in message.body


@pytest.mark.parametrize("phase", PHASES)
def test_member_added_email_to_a_returning_member_carries_only_their_own_data(
    world: World, phase: str, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    # given the subject left, and an organiser adds them again
    subject = set_status(world.people["self"], Membership.Status.LEFT)
    with django_capture_on_commit_callbacks(execute=True):
        services.member_add(
            actor=world.people["organiser"],
            community=world.community,
            email=subject.user.email,
        )
    # then
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [subject.user.email]
    assert exposed(message.subject + message.body) <= {"self"}


# --- one module decides: nothing else reads the hidden fields ---------------------------------

ROOT = Path(__file__).resolve().parents[2]
HIDDEN_NAMES = frozenset(privacy.HIDDEN_FIELDS)
# Names of the lists that carry the hidden field names, through which code can read them
# with getattr(profile, name) and slip past a search for ".real_name".
FIELD_LISTS = frozenset({"HIDDEN_FIELDS", "PROFILE_TEXT_FIELDS"})
APPS = ("members", "questions", "rewards", "rotation", "community")
# Modules that own the hidden fields: the privacy module (the one reader for display), the
# model that defines them, the services and portal forms that write them, and the Django
# admin, which is for platform staff (SPEC §1: operators of the deployment see every field).
OWNERS = frozenset(
    {
        "members/privacy.py",
        "members/models.py",
        "members/services/profiles.py",
        "members/forms.py",
        "members/admin.py",
    }
)
# Reads outside the owners, each for a reason (path, function):
EXCEPTIONS = frozenset(
    {
        # The own-profile form is filled in with the member's own values, which they may
        # always see (privacy.sees_hidden_fields is true for oneself).
        ("members/views.py", "my_profile"),
        # CSV import names its columns after the profile fields and copies an uploaded row's
        # values into the new profile: it reads the file, never a stored profile.
        ("members/imports.py", "<module>"),
        ("members/imports.py", "members_import"),
    }
)
# Templates receive profiles only as privacy.ProfileCard objects named ``card``, whose
# real_name/company are None unless the viewer may see them (enforced at run time by
# test_at_run_time_only_the_privacy_module_reads_hidden_fields).
TEMPLATE_ALLOWED = frozenset({"card.real_name", "card.company"})


def _is_hidden_name(value: object) -> bool:
    return isinstance(value, str) and value.lstrip("-").split("__")[0] in HIDDEN_NAMES


def python_reads(source: str) -> list[tuple[str, int, str]]:
    """(function, line, what) for each place the source reads a hidden field: an attribute
    ``x.real_name``, ``getattr(x, "company")``, a query naming the field (``values("real_name")``,
    ``order_by("-company")``, ``F("real_name")``, ``filter(company__icontains=...)``), or a use of
    a list of field names that contains them."""
    found: list[tuple[str, int, str]] = []

    class Visitor(ast.NodeVisitor):
        scope = ["<module>"]

        def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
            self.scope.append(node.name)
            self.generic_visit(node)
            self.scope.pop()

        visit_FunctionDef = _function  # noqa: N815
        visit_AsyncFunctionDef = _function  # noqa: N815

        def _add(self, node: ast.AST, what: str) -> None:
            found.append((self.scope[-1], getattr(node, "lineno", 0), what))

        def visit_Attribute(self, node: ast.Attribute) -> None:
            if isinstance(node.ctx, ast.Load) and node.attr in HIDDEN_NAMES:
                self._add(node, f".{node.attr}")
            if isinstance(node.ctx, ast.Load) and node.attr in FIELD_LISTS:
                self._add(node, node.attr)
            self.generic_visit(node)

        def visit_Name(self, node: ast.Name) -> None:
            if isinstance(node.ctx, ast.Load) and node.id in FIELD_LISTS:
                self._add(node, node.id)

        def visit_Call(self, node: ast.Call) -> None:
            for arg in node.args:
                if isinstance(arg, ast.Constant) and _is_hidden_name(arg.value):
                    self._add(node, f"call with {arg.value!r}")
            for keyword in node.keywords:
                if _is_hidden_name(keyword.arg):
                    self._add(node, f"call with {keyword.arg}=")
            self.generic_visit(node)

    Visitor().visit(ast.parse(source))
    return found


_TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_QUOTED = re.compile(r"""(:?)("[^"]*"|'[^']*')""")
_VARIABLE = re.compile(r"[A-Za-z_]\w*(?:\.\w+)*")


def template_reads(source: str) -> list[str]:
    """Template expressions that read a hidden field, other than from a privacy card:
    ``{{ profile.real_name }}``, ``{{ company }}``, ``{% if m.profile.company %}``, or a filter
    argument such as ``|dictsort:"real_name"``. String literals elsewhere (``field.name ==
    "real_name"`` compares a form field's name) read nothing."""
    found = []
    for tag in _TEMPLATE_TAG.findall(source):
        for colon, literal in _QUOTED.findall(tag):
            if colon and _is_hidden_name(literal[1:-1]):
                found.append(f"{tag} (filter argument {literal})")
        unquoted = _QUOTED.sub("", tag)
        for path in _VARIABLE.findall(unquoted):
            if HIDDEN_NAMES & set(path.split(".")) and path not in TEMPLATE_ALLOWED:
                found.append(f"{tag} ({path})")
    return found


def test_the_scanners_catch_what_they_look_for() -> None:
    # The checks below are only worth something if they see these.
    source = """
def leak(profile, qs, q):
    a = profile.real_name
    b = getattr(profile, "company")
    c = qs.values_list("real_name", flat=True)
    d = qs.order_by("-company")
    e = qs.filter(real_name__icontains=q)
    f = [getattr(profile, n) for n in services.PROFILE_TEXT_FIELDS]
    g = {"real_name": 1}  # a literal key is not a read
    profile.company = "x"  # a write is not a read
"""
    assert [(f, what) for f, _line, what in python_reads(source)] == [
        ("leak", ".real_name"),
        ("leak", "call with 'company'"),
        ("leak", "call with 'real_name'"),
        ("leak", "call with '-company'"),
        ("leak", "call with real_name__icontains="),
        ("leak", "PROFILE_TEXT_FIELDS"),
    ]
    template = (
        "{{ card.real_name }}{{ profile.real_name }}{% if m.profile.company %}{% endif %}"
        '{{ company }}{{ members|dictsort:"real_name" }}{% if field.name == "company" %}{% endif %}'
    )
    assert template_reads(template) == [
        "{{ profile.real_name }} (profile.real_name)",
        "{% if m.profile.company %} (m.profile.company)",
        "{{ company }} (company)",
        '{{ members|dictsort:"real_name" }} (filter argument "real_name")',
    ]


def test_no_module_but_privacy_reads_hidden_fields() -> None:
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in OWNERS:
                continue
            for function, line, what in python_reads(path.read_text(encoding="utf-8")):
                if (relative, function) not in EXCEPTIONS:
                    offenders.append(f"{relative}:{line} in {function}: {what}")
    assert offenders == []


def test_no_template_reads_hidden_fields_except_from_a_privacy_card() -> None:
    offenders = []
    templates = sorted(
        p for p in (ROOT / "templates").rglob("*") if p.suffix in (".html", ".txt", ".xml")
    )
    assert templates  # the scan looked somewhere
    for path in templates:
        for read in template_reads(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}: {read}")
    assert offenders == []


class _WatchedField:
    """Stands in for a model field's descriptor and notes who reads the value."""

    def __init__(self, name: str, reads: list[str]) -> None:
        self.name = name
        self.reads = reads

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        self.reads.append(_reader(sys._getframe(1)))
        if self.name not in instance.__dict__:
            instance.refresh_from_db(fields=[self.name])
        return instance.__dict__[self.name]

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.name] = value


def _reader(frame: Any) -> str:
    """Who read: ``path:function`` for the project's code; for a library, what kind."""
    filename = Path(frame.f_code.co_filename).resolve()
    if ROOT in filename.parents and ".venv" not in filename.parts:
        while frame.f_code.co_name.startswith("<") and frame.f_back is not None:
            frame = frame.f_back  # a comprehension: name the function around it
        return f"{filename.relative_to(ROOT).as_posix()}:{frame.f_code.co_name}"
    text = filename.as_posix()
    if "/django/db/" in text:
        return "orm"  # saving, validating or copying the row
    if "/django/template/" in text:
        return "template"
    return f"library {text}"


def _allowed_reader(reader: str) -> bool:
    """The same rule as the static scan: the owners, the listed exceptions, and the ORM."""
    path, _sep, function = reader.partition(":")
    return reader == "orm" or path in OWNERS or (path, function) in EXCEPTIONS


def _published_digest(world: World) -> Digest:
    """Last week's digest, published: a question answered by the subject and the moderator."""
    community = world.community
    question = published(world.people["member"], title="A question for the digest")
    answers = [
        question_services.answer_create(author=world.people[who], question=question, body=text)
        for who, text in (("self", "First, *measure*."), ("moderator", "Then decide."))
    ]
    week = weeks.start_of(community) - datetime.timedelta(days=7)
    digest = Digest.objects.create(
        community=community,
        week=week,
        state=Digest.State.PUBLISHED,
        published_at=timezone.now(),
        summary="The gist.",
        summary_html="<p>The gist.</p>",
        moderator=world.people["moderator"],
        content={"winners": [{"place": 1, "answer": answers[0].pk, "amount": 100}]},
    )
    DigestItem.objects.bulk_create(
        DigestItem(digest=digest, answer=a, position=i, excerpt=a.body)
        for i, a in enumerate(answers, start=1)
    )
    return digest


@pytest.mark.parametrize("viewer", ["organiser", "moderator", "member"])
def test_at_run_time_only_the_privacy_module_reads_hidden_fields(
    client: Client,
    api: APIClient,
    world: World,
    viewer: str,
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given every read of Profile.real_name/company is watched
    reads: list[str] = []
    for name in HIDDEN_NAMES:
        monkeypatch.setattr(Profile, name, _WatchedField(name, reads))
    _login(client, api, world, viewer)
    subject = world.id("self")
    # when the viewer walks every surface
    for url in (
        f"{PORTAL}/members/",
        f"{PORTAL}/members/?q=Secretname",
        f"{PORTAL}/members/{subject}/",
        f"{PORTAL}/me/",
        f"{PORTAL}/members/export.csv",
        f"{PORTAL}/matcher/?tags=交互设计",
    ):
        body(client.get(url))
    for url in (
        f"{API}/members/",
        f"{API}/members/?q=Secretname",
        f"{API}/members/{subject}/",
        f"{API}/members/me/",
        f"{API}/members/export/",
        f"{API}/matcher/?tags=交互设计",
    ):
        body(api.get(url))
    # the digest's surfaces: archive, page, API, feed, e-mails (and curation for organisers)
    digest = _published_digest(world)
    for url in (f"{PORTAL}/digests/", f"{PORTAL}/digests/{digest.label}/"):
        body(client.get(url))
    body(api.get(f"{API}/digests/"))
    secret = digest_services.feed_secret_renew(membership=world.people[viewer]).feed_secret
    body(Client().get(f"{PORTAL}/digests/feed/{secret}/"))
    if viewer == "organiser":
        for url in ("curate/", "email/", "email/?format=text"):
            body(client.get(f"{PORTAL}/digests/{digest.label}/{url}"))
        with django_capture_on_commit_callbacks(execute=True):
            delivery.deliveries_queue(digest.pk)
        assert len(mailoutbox) >= 3
        mailoutbox.clear()
    api.patch(f"{API}/members/me/", {"company": "Newco"}, format="json")
    client.post(f"{PORTAL}/me/", {"handle": HANDLES[viewer], "company": "Newerco"})
    if viewer == "organiser":
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"{API}/members/", {"email": "new.person@example.com"}, format="json")
        assert len(mailoutbox) == 1
    # then the hidden fields were read, for display only by the privacy module
    assert any(reader.startswith("members/privacy.py:") for reader in reads)
    assert sorted({reader for reader in reads if not _allowed_reader(reader)}) == []


def test_the_run_time_watch_sees_a_template_read_a_hidden_field(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check above is only worth something if it catches this.
    reads: list[str] = []
    monkeypatch.setattr(Profile, "real_name", _WatchedField("real_name", reads))
    profile = Profile.objects.get(pk=world.id("self"))
    rendered = Template("{{ p.real_name }}").render(Context({"p": profile}))
    assert rendered == HIDDEN["self"]["real_name"]
    assert reads == ["template"]
    assert not _allowed_reader("template")
