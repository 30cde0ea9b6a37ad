"""The OpenAPI schema says what the API answers (issue 10's named cases), and an unknown path
under /api/ is a JSON 404."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from community.schema import SchemaView
from members.models import Membership

V1 = "/api/v1"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _component(schema: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return found


def _ok(schema: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    responses = schema["paths"][path][method]["responses"]
    found: dict[str, Any] = responses["200"]["content"]["application/json"]["schema"]
    return found


def test_revisions_and_balances_are_arrays(schema: dict[str, Any]) -> None:
    revisions = _ok(schema, f"{V1}/answers/{{answer_id}}/revisions/")
    balances = _ok(schema, f"{V1}/communities/{{slug}}/ledger/balances/")
    assert revisions["type"] == "array"
    assert set(_component(schema, revisions["items"])["required"]) == {
        "number",
        "body",
        "created_at",
    }
    assert balances["type"] == "array"
    assert set(_component(schema, balances["items"])["properties"]) == {"account", "balance"}


def test_community_times_are_described_as_sent(schema: dict[str, Any]) -> None:
    community = _component(schema, _ok(schema, f"{V1}/communities/{{slug}}/"))
    assert community["properties"]["phase_changed_at"]["nullable"] is True
    opens = community["properties"]["voting_opens_time"]
    assert "format" not in opens
    assert opens["type"] == "string"
    assert opens["pattern"].startswith("^([01][0-9]|2[0-3])")


def test_the_week_is_typed(schema: dict[str, Any]) -> None:
    week = _component(schema, _ok(schema, f"{V1}/communities/{{slug}}/weeks/{{week}}/"))
    assert {"reward_budget", "rollover_in", "rollover_out", "winners", "moderator", "kpis"} <= set(
        week["properties"]
    )
    assert week["properties"]["winners"]["type"] == "array"
    assert week["properties"]["moderator"]["nullable"] is True


def test_no_operation_answers_an_untyped_object(schema: dict[str, Any]) -> None:
    untyped = [
        f"{method.upper()} {path} {code}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        for code, response in operation["responses"].items()
        for body in response.get("content", {}).values()
        if body["schema"].get("type") == "object"
        and "properties" not in body["schema"]
        and "additionalProperties" not in body["schema"]
    ]
    assert untyped == []


def test_errors_are_documented(schema: dict[str, Any]) -> None:
    ledger = schema["paths"][f"{V1}/communities/{{slug}}/payouts/"]
    assert {"400", "401", "403", "404", "415", "503"} <= set(ledger["post"]["responses"])
    token = schema["paths"][f"{V1}/auth/token/"]["post"]["responses"]
    assert "429" in token
    assert "401" not in token  # it reads no credentials


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here/", "/api/v1/communities/circle/nothing/", "/api/elsewhere"]
)
def test_an_unknown_api_path_is_a_json_404(api: APIClient, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_known_api_path_without_its_slash_still_redirects(
    api: APIClient, member: Membership
) -> None:
    response = api.get("/api/v1/communities")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/communities/"


def test_an_unknown_portal_path_is_still_a_page(client: Any, db: None) -> None:
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_the_schema_is_generated_once_per_language_and_kept(
    api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SchemaView, "_schemas", {})
    generated: list[str] = []
    real = SchemaGenerator.get_schema

    def counting(self: SchemaGenerator, *args: Any, **kwargs: Any) -> Any:
        generated.append("x")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    json = {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}
    english = api.get("/api/schema/", {"lang": "en"}, **json)
    again = api.get("/api/schema/", {"lang": "en"}, **json)
    chinese = api.get("/api/schema/", {"lang": "zh-hans"}, **json)
    assert english.status_code == again.status_code == chinese.status_code == 200
    assert english.content == again.content
    assert english.content != chinese.content  # the descriptions are translated
    assert len(generated) == 2
    # a language the project does not have is answered, and not kept
    for _ in range(2):
        assert api.get("/api/schema/", {"lang": "xx-nasty"}, **json).status_code == 200
    assert len(generated) == 4
    assert set(SchemaView._schemas) == {("en", None), ("zh-hans", None)}
