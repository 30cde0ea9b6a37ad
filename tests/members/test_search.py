"""Directory search (members/search.py) and the directory's filters (selectors.directory).

The tokeniser is tested without a database; so is the SQL the ``matches`` lookup compiles to
(the LIKE form is even run, on an in-memory SQLite of the standard library). The rest runs on
PostgreSQL, where ``matches`` is a tsquery against the GIN indexes of migration 0002.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.utils import ConnectionHandler
from django.test import Client
from rest_framework.test import APIClient

from members import selectors, services
from members.models import Community, Membership, Profile
from members.search import MAX_QUERY_CHARS, MAX_QUERY_TERMS, Term, document, parse_query
from tests.factories import add_member, bulk_members, make_community, organiser_of
from tests.worlds import fresh, settled, shared_world

SLUG = "circle"
API = f"/api/v1/communities/{SLUG}"
PORTAL = f"/c/{SLUG}"


def exact(text: str) -> Term:
    return Term(text, prefix=False)


def prefix(text: str) -> Term:
    return Term(text, prefix=True)


# --- the tokeniser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        # Chinese: each character and each overlapping pair
        (("交互设计",), " 交 互 设 计 交互 互设 设计 "),
        (("设",), " 设 "),
        # English: whole words, case-folded
        (("Senior Engineer",), " senior engineer "),
        # mixed, with punctuation between
        (("UI设计师, Product!",), " ui 设 计 师 设计 计师 product "),
        # punctuation (here a full-width comma) ends a Chinese run: no pair across it
        (("交互，设计",), " 交 互 交互 设 计 设计 "),
        # full-width letters, digits and space are their ASCII selves
        (("ＡＢＣ　１２３",), " abc 123 "),
        # case folding beyond ASCII
        (("ÉCOLE Straße",), " école strasse "),
        # underscores and hyphens separate words
        (("snake_case front-end",), " snake case front end "),
        # Japanese kana are indexed like Chinese
        (("デザイン",), " デ ザ イ ン デザ ザイ イン "),
        # a token is kept once, across all the texts
        (("Go", "go", "GO 围棋", "围棋"), " go 围 棋 围棋 "),
        # nothing searchable
        (("", "!!!", " —— "), ""),
        ((), ""),
    ],
)
def test_document(texts: tuple[str, ...], expected: str) -> None:
    assert document(*texts) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a Chinese run must contain all of its pairs; a single character matches itself
        ("交互设计", (exact("交互"), exact("互设"), exact("设计"))),
        ("设计", (exact("设计"),)),
        ("设", (exact("设"),)),
        # a Latin word matches the words it begins, in any case or width
        ("eng", (prefix("eng"),)),
        ("ENG", (prefix("eng"),)),
        ("Ｅｎｇ", (prefix("eng"),)),
        ("Straße", (prefix("strasse"),)),
        # mixed, punctuated, repeated
        ("UI设计", (prefix("ui"), exact("设计"))),
        ("  front-end, 交互！", (prefix("front"), prefix("end"), exact("交互"))),
        ("设计 UI 设计 ui", (exact("设计"), prefix("ui"))),
        # nothing searchable
        ("!!!", ()),
        ("  ，。 ", ()),
        ("", ()),
    ],
)
def test_parse_query(query: str, expected: tuple[Term, ...]) -> None:
    assert parse_query(query) == expected


def test_parse_query_reads_at_most_max_chars_and_keeps_at_most_max_terms() -> None:
    assert parse_query("a" * (MAX_QUERY_CHARS + 100)) == (prefix("a" * MAX_QUERY_CHARS),)
    many = " ".join(f"w{i}" for i in range(MAX_QUERY_TERMS + 16))
    assert parse_query(many) == tuple(prefix(f"w{i}") for i in range(MAX_QUERY_TERMS))


# --- the SQL of the ``matches`` lookup, without a database ------------------------------------


def _offline_connection(engine: str) -> Any:
    """A connection object of the given backend that is never opened: enough to compile SQL."""
    return ConnectionHandler({"default": {"ENGINE": engine, "NAME": "offline"}})["default"]


def _compile(engine: str, query: str) -> tuple[str, tuple[Any, ...]]:
    qs = Profile.objects.filter(search_document__matches=query).values_list("search_document")
    sql, params = qs.query.get_compiler(connection=_offline_connection(engine)).as_sql()
    return sql, tuple(params)


def test_matches_compiles_to_like_clauses_on_other_databases() -> None:
    sql, params = _compile("django.db.backends.sqlite3", "Eng 设计")
    assert sql.count('"members_profile"."search_document" LIKE %s') == 2
    assert params == ("% eng%", "% 设计 %")


def test_matches_compiles_to_a_tsquery_on_postgresql() -> None:
    sql, params = _compile("django.db.backends.postgresql", "Eng 设计")
    assert '"members_profile"."search_document"' in sql
    assert "@@ %s::tsquery" in sql
    assert params == ("'eng':* & '设计'",)


@pytest.mark.parametrize("engine", ["django.db.backends.sqlite3", "django.db.backends.postgresql"])
def test_matches_with_nothing_searchable_matches_nothing(engine: str) -> None:
    sql, params = _compile(engine, "!!!")
    assert sql.endswith("WHERE 1 = 0")
    assert params == ()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("交互设计", ["ux"]),
        ("设计", ["ux"]),
        ("计交", []),
        ("eng", ["ux"]),
        ("ENGINEER", ["ux"]),
        ("gineer", []),
        ("engineer 围棋", ["ux"]),
        ("engineer copywriter", []),
        ("围棋", ["data", "ux"]),
        ("!!!", []),
    ],
)
def test_the_like_form_finds_what_the_tsquery_form_finds(query: str, expected: list[str]) -> None:
    # The embedded default (SQLite) runs this SQL; here on the standard library's SQLite.
    sql, params = _compile("django.db.backends.sqlite3", query)
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE "members_profile" ("search_document" text)')
    documents = {
        document("Senior Engineer", "交互设计", "围棋"): "ux",
        document("Copywriter", "Copywriting"): "copy",
        document("Data Analyst", "SQL", "围棋"): "data",
    }
    db.executemany('INSERT INTO "members_profile" VALUES (?)', [(d,) for d in documents])
    rows = db.execute(sql.replace("%s", "?"), params).fetchall()
    assert sorted(documents[row[0]] for row in rows) == expected


# --- on the database -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The community and its people, built once per module (tests/worlds.py); each test has
    its own savepoint and its own copy of the objects."""
    with shared_world(django_db_blocker):
        # as tests/conftest.py's ``community`` and ``organiser``
        community = make_community(slug="circle", name="Circle")
        world = {"community": community, "people": build_people(community, organiser_of(community))}
        yield settled(world)


@pytest.fixture
def world(_world: dict[str, Any], db: None) -> dict[str, Any]:
    return fresh(_world)


@pytest.fixture
def community(world: dict[str, Any]) -> Community:
    """The shared world's community (instead of tests/conftest.py's own)."""
    return world["community"]


@pytest.fixture
def people(world: dict[str, Any]) -> dict[str, Membership]:
    return world["people"]


def build_people(community: Community, organiser: Membership) -> dict[str, Membership]:
    services.profile_update(membership=organiser, data={"handle": "boss"})
    return {
        "organiser": organiser,
        "ux": add_member(
            community,
            profile={
                "handle": "ux-lin",
                "real_name": "Lin Hiddenname 林隐名",
                "company": "Secretcorp 秘密公司",
                "role_title": "Senior Engineer",
                "industry": "Fintech",
                "city": "Shanghai",
                "career_path": "从运营转到产品",
                "skills": ["交互设计", "Structured thinking"],
                "needs": ["Hiring"],
                "hobbies": ["围棋"],
            },
        ),
        "copy": add_member(
            community,
            role=Membership.Role.MODERATOR,
            profile={
                "handle": "copy-wang",
                "role_title": "Copywriter",
                "industry": "Media",
                "city": "北京",
                "skills": ["Copywriting"],
                "needs": ["Job seeking"],
                "hobbies": ["Running"],
            },
        ),
        "data": add_member(
            community,
            profile={
                "handle": "data-zhao",
                "role_title": "Data Analyst",
                "industry": "fintech",
                "city": "shanghai",
                "skills": ["SQL"],
                "hobbies": ["围棋"],
            },
        ),
    }


def find(people: dict[str, Membership], viewer: str = "organiser", **filters: Any) -> list[str]:
    member = people[viewer]
    return [
        p.handle
        for p in selectors.directory(
            viewer=member,
            community=member.community,
            filters=selectors.DirectoryFilters(**filters),
        )
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Chinese: a substring of a word finds it, a jumble of its characters does not
        ("交互设计", ["ux-lin"]),
        ("设计", ["ux-lin"]),
        ("互设", ["ux-lin"]),
        ("设", ["ux-lin"]),
        ("计交", []),
        ("运营", ["ux-lin"]),
        # English: a prefix of a word, in any case; not the middle of a word
        ("eng", ["ux-lin"]),
        ("ENGINEER", ["ux-lin"]),
        ("Ｅｎｇｉｎｅｅｒ", ["ux-lin"]),
        ("gineer", []),
        ("engineers", []),
        # several terms: all of them
        ("engineer 交互", ["ux-lin"]),
        ("engineer copywriter", []),
        ("fintech", ["data-zhao", "ux-lin"]),
        ("fintech 围棋 sql", ["data-zhao"]),
        # tag names: skills, needs, hobbies
        ("copywriting", ["copy-wang"]),
        ("structured", ["ux-lin"]),
        ("hiring", ["ux-lin"]),
        ("job seeking", ["copy-wang"]),
        ("running", ["copy-wang"]),
        ("围棋", ["data-zhao", "ux-lin"]),
        # handles and cities
        ("copy-wang", ["copy-wang"]),
        ("北京", ["copy-wang"]),
        # nothing searchable is no text filter at all (and no error), with or without filters
        ("!!!", ["boss", "copy-wang", "data-zhao", "ux-lin"]),
        ("，。", ["boss", "copy-wang", "data-zhao", "ux-lin"]),
    ],
)
def test_directory_search(people: dict[str, Membership], query: str, expected: list[str]) -> None:
    assert find(people, q=query) == expected


@pytest.mark.django_db
def test_an_empty_query_lists_everyone(people: dict[str, Membership]) -> None:
    everyone = ["boss", "copy-wang", "data-zhao", "ux-lin"]
    assert find(people) == everyone
    assert find(people, q="   ") == everyone


@pytest.mark.django_db
def test_a_one_letter_query_matches_words_not_the_filter_tokens(
    people: dict[str, Membership],
) -> None:
    # Only copy-wang has a word beginning with "c" ("copywriter", "copywriting", "copy").
    assert find(people, q="c") == ["copy-wang"]
    # Nobody has a word beginning with "i".
    assert find(people, q="i") == []


@pytest.mark.django_db
def test_the_search_document_follows_profile_changes(people: dict[str, Membership]) -> None:
    # when ux-lin changes jobs and drops a skill
    services.profile_update(
        membership=people["ux"], data={"role_title": "Product Manager", "skills": ["SQL"]}
    )
    # then the old words find them no more, the new ones do
    assert find(people, q="engineer") == []
    assert find(people, q="交互设计") == []
    assert find(people, q="product manager") == ["ux-lin"]
    assert find(people, q="sql") == ["data-zhao", "ux-lin"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"skills": ["交互设计"]}, ["ux-lin"]),
        ({"skills": ["copywriting"]}, ["copy-wang"]),  # tag names in any case
        ({"skills": ["交互设计", "Structured thinking"]}, ["ux-lin"]),  # all of them
        ({"skills": ["交互设计", "SQL"]}, []),
        ({"needs": ["HIRING"]}, ["ux-lin"]),
        ({"hobbies": ["围棋"]}, ["data-zhao", "ux-lin"]),
        ({"hobbies": ["围棋"], "skills": ["SQL"]}, ["data-zhao"]),
        ({"industry": "FINTECH"}, ["data-zhao", "ux-lin"]),
        ({"industry": "fin"}, []),  # exact, not a prefix
        ({"city": "SHANGHAI"}, ["data-zhao", "ux-lin"]),
        ({"city": " shanghai "}, ["data-zhao", "ux-lin"]),
        ({"city": "shang"}, []),
        ({"city": "北京"}, ["copy-wang"]),
        ({"role": "moderator"}, ["copy-wang"]),
        ({"role": "organiser"}, ["boss"]),
        ({"role": "member"}, ["data-zhao", "ux-lin"]),
        ({"city": "shanghai", "q": "engineer"}, ["ux-lin"]),
        ({"industry": "fintech", "q": "设计"}, ["ux-lin"]),
        ({"city": "北京", "q": "engineer"}, []),
    ],
)
def test_directory_filters(
    people: dict[str, Membership], filters: dict[str, Any], expected: list[str]
) -> None:
    assert find(people, **filters) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"skills": ["Nope"]}, "skill"),
        ({"skills": ["交互设计", "Nope"]}, "skill"),
        ({"skills": ["Hiring"]}, "skill"),  # a need, not a skill
        ({"needs": ["Nope"]}, "need"),
        ({"hobbies": ["Nope"]}, "hobby"),
        ({"role": "boss"}, "role"),
        ({"role": "candidate"}, "role"),
    ],
)
def test_directory_refuses_unknown_filter_values_naming_the_field(
    people: dict[str, Membership], filters: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        find(people, **filters)
    assert list(excinfo.value.message_dict) == [field]


# --- the API and the portal ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "交互设计"}, ["ux-lin"]),
        ({"q": "计交"}, []),
        ({"q": "eng"}, ["ux-lin"]),
        ({"q": "!!!"}, ["boss", "copy-wang", "data-zhao", "ux-lin"]),
        ({"q": "!!!", "city": "shanghai"}, ["data-zhao", "ux-lin"]),
        ({"skill": "交互设计"}, ["ux-lin"]),
        ({"skill": ["交互设计", "Structured thinking"]}, ["ux-lin"]),
        ({"need": "hiring"}, ["ux-lin"]),
        ({"hobby": "围棋"}, ["data-zhao", "ux-lin"]),
        ({"industry": "FinTech"}, ["data-zhao", "ux-lin"]),
        ({"city": "SHANGHAI"}, ["data-zhao", "ux-lin"]),
        ({"role": "moderator"}, ["copy-wang"]),
        ({"city": "shanghai", "q": "围棋 sql"}, ["data-zhao"]),
    ],
)
def test_api_directory_search_and_filters(
    api: APIClient, people: dict[str, Membership], params: dict[str, Any], expected: list[str]
) -> None:
    api.force_authenticate(people["data"].user)
    response = api.get(f"{API}/members/", params)
    assert response.status_code == 200
    assert [r["handle"] for r in response.json()["results"]] == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"skill": "Nope"}, "skill"),
        ({"need": "Nope"}, "need"),
        ({"hobby": "Nope"}, "hobby"),
        ({"role": "boss"}, "role"),
    ],
)
def test_api_directory_answers_400_naming_the_field_of_an_unknown_value(
    api: APIClient, people: dict[str, Membership], params: dict[str, str], field: str
) -> None:
    api.force_authenticate(people["data"].user)
    response = api.get(f"{API}/members/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "交互设计"}, ["ux-lin"]),
        ({"q": "设计"}, ["ux-lin"]),
        ({"q": "计交"}, []),
        ({"q": "ENG"}, ["ux-lin"]),
        ({"q": "!!!"}, ["boss", "copy-wang", "data-zhao", "ux-lin"]),
        ({"skill": "交互设计"}, ["ux-lin"]),
        ({"need": "Hiring"}, ["ux-lin"]),
        ({"hobby": "围棋"}, ["data-zhao", "ux-lin"]),
        ({"industry": "FINTECH"}, ["data-zhao", "ux-lin"]),
        ({"city": "Shanghai"}, ["data-zhao", "ux-lin"]),
        ({"role": "moderator"}, ["copy-wang"]),
    ],
)
def test_portal_directory_search_and_filters(
    client: Client, people: dict[str, Membership], params: dict[str, str], expected: list[str]
) -> None:
    client.force_login(people["data"].user)
    response = client.get(f"{PORTAL}/members/", params)
    assert response.status_code == 200
    assert [c.handle for c in response.context["cards"]] == expected
    assert not response.context["form"].errors


@pytest.mark.django_db
def test_portal_directory_says_so_when_nobody_matches(
    client: Client, people: dict[str, Membership]
) -> None:
    client.force_login(people["data"].user)
    response = client.get(f"{PORTAL}/members/", {"q": "计交"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "0 members found" in text
    assert "Nobody matches. Try fewer filters." in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"skill": "Nope"}, "skill"),
        ({"need": "Nope"}, "need"),
        ({"hobby": "Nope"}, "hobby"),
        ({"role": "boss"}, "role"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_portal_directory_shows_a_form_error_and_no_results_for_an_unknown_value(
    client: Client, people: dict[str, Membership], params: dict[str, str], field: str
) -> None:
    client.force_login(people["data"].user)
    response = client.get(f"{PORTAL}/members/", params)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert response.context["cards"] == []
    assert response.context["page"] is None


# --- long words ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_profile_with_a_very_long_word_can_be_saved_and_found(
    api: APIClient, people: dict[str, Membership]
) -> None:
    # A 2,000-character career path may be one "word" of letters that take two bytes each in
    # UTF-8; PostgreSQL refuses tsvector lexemes longer than 2,047 bytes.
    word = "é" * 1500
    api.force_authenticate(people["data"].user)
    # when
    response = api.patch(f"{API}/members/me/", {"career_path": word}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["career_path"] == word
    assert find(people, q="é" * 50) == ["data-zhao"]
    assert find(people, q="é" * MAX_QUERY_CHARS) == ["data-zhao"]


# --- the GIN index on PostgreSQL -------------------------------------------------------------


def _crowd(community: Community, n: int) -> None:
    """``n`` more active members whose profiles match none of the test's queries, in a few
    queries, so that the planner has a reason to prefer the index."""
    bulk_members(
        community,
        n,
        prefix="crowd",
        tags_for=lambda i: [],
        fields=lambda i: {
            "real_name": f"Person {i}",
            "company": f"Firm {i % 50}",
            "role_title": "Product manager",
            "industry": "Retail",
            "city": "Chengdu",
        },
    )
    with connection.cursor() as cursor:
        # Rows inserted after a GIN index was built wait in its pending list (until a vacuum),
        # which the planner rightly prices as slow; merge them as autovacuum would.
        for index in ("members_profile_search_gin", "members_profile_full_search_gin"):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE members_profile")
        cursor.execute("ANALYZE members_membership")


def _plan(qs: Any) -> str:
    with connection.cursor() as cursor:
        # With a few thousand rows the planner picks the GIN index by itself; ruling out the
        # sequential scan keeps the check steady across PostgreSQL versions and statistics.
        cursor.execute("SET LOCAL enable_seqscan = off")
    return str(qs.explain())


@pytest.fixture
def crowded(community: Community, people: dict[str, Membership]) -> dict[str, Membership]:
    if connection.vendor != "postgresql":
        pytest.skip("the GIN indexes exist on PostgreSQL only")
    _crowd(community, 2000)
    return people


@pytest.mark.django_db
def test_a_members_search_uses_the_shared_document_gin_index(
    community: Community, crowded: dict[str, Membership]
) -> None:
    # given a growth-phase community: a plain member searches the shared document
    services.community_enter_growth(actor=crowded["organiser"], community=community)
    member = Membership.objects.select_related("community").get(pk=crowded["data"].pk)
    qs = selectors.directory(
        viewer=member, community=member.community, filters=selectors.DirectoryFilters(q="交互设计")
    )
    # when
    plan = _plan(qs)
    # then
    assert "members_profile_search_gin" in plan
    assert [p.handle for p in qs] == ["ux-lin"]


@pytest.mark.django_db
def test_a_search_by_someone_who_sees_everything_uses_the_full_document_gin_index(
    crowded: dict[str, Membership],
) -> None:
    organiser = crowded["organiser"]
    qs = selectors.directory(
        viewer=organiser,
        community=organiser.community,
        filters=selectors.DirectoryFilters(q="秘密公司"),
    )
    plan = _plan(qs)
    assert "members_profile_full_search_gin" in plan
    assert [p.handle for p in qs] == ["ux-lin"]


@pytest.mark.django_db
def test_the_matches_lookup_uses_the_gin_index(crowded: dict[str, Membership]) -> None:
    qs = Profile.objects.filter(search_document__matches="eng")
    assert "members_profile_search_gin" in _plan(qs)
    assert [p.handle for p in qs] == ["ux-lin"]
