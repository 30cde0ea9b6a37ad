"""The API against its own OpenAPI schema (schemathesis, in-process through the WSGI app).

Every operation is called with generated data, as a plain member and as an organiser (signed
in with two factors, so the money endpoints answer), in a community with a closed week: its
questions, answers, votes, prizes, a digest and a moderator's shift. A response fails the
test when it is a 5xx, when its body does not match the schema, or when its status code is
not documented. The run is bounded — a fixed seed, derandomised, a few examples per
operation — so it stays well under two minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from questions import services as question_services
from rewards.models import Payment, Prize
from tests.digests.helpers import Capture, World, close, world
from tests.factories import mfa_token, organiser_of

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
]
SEED = 20261109
EXAMPLES = 6


@contextmanager
def _connection_kept() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request; the test's
    transaction lives on it (Django's test client disconnects the same signal)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["member", "organiser"])
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def closed_world(
    db: None,
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Capture,
) -> World:
    w = world(time_machine)
    close(w, django_capture_on_commit_callbacks)
    question_services.comment_create(
        author=w.people[0], answer=w.answers[2], body="Why this way?", parent=None
    )
    return w


@pytest.fixture
def token(closed_world: World, role: str) -> str:
    if role == "organiser":
        return mfa_token(APIClient(), organiser_of(closed_world.community).user)
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=closed_world.moderator.user)[0].key


MISSING = 999_999_999  # an id that names nothing: the 404s are part of the contract too


def _values(w: World) -> dict[str, list[Any]]:
    """What each path parameter may be: mostly things that exist."""
    comments = list(w.answers[2].comments.values_list("pk", flat=True))
    return {
        "slug": [w.slug, w.slug, w.slug, "no-such-community"],
        "week": ["2026-W45", "2026-W46", "current", "2026-W99"],
        "question_id": [q.pk for q in w.questions] + [MISSING],
        "answer_id": [a.pk for a in w.answers[:4]] + [MISSING],
        "membership_id": [w.moderator.pk, w.people[0].pk, MISSING],
        "member_id": [w.moderator.pk, MISSING],
        "digest_id": [w.digest().pk, w.digest().pk, MISSING],
        "prize_id": [*Prize.objects.values_list("pk", flat=True)[:2], MISSING],
        "payment_id": [*Payment.objects.values_list("pk", flat=True)[:2], MISSING],
        "comment_id": [*comments, MISSING],
        "swap_id": [MISSING],
        "checkout_id": [MISSING],
    }


def _cases(operation: Any, mode: GenerationMode, values: dict[str, list[Any]]) -> Any:
    names = [p.name for p in operation.path_parameters]
    params = st.fixed_dictionaries({name: st.sampled_from(values[name]) for name in names})
    return params.flatmap(lambda fixed: operation.as_strategy(mode, path_parameters=fixed or None))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return f"{exc}\n" + "\n".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def _modes(operation: Any) -> list[GenerationMode]:
    """Invalid data as well where there is something to send wrong (a body or a query)."""
    if operation.body or operation.query:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


@pytest.mark.usefixtures("fake_stripe")
def test_api_matches_its_schema(closed_world: World, token: str) -> None:
    # given the schema the API serves, and things for its paths to name
    values = _values(closed_world)
    headers = {"Authorization": f"Token {token}"}
    failures: list[str] = []
    with _connection_kept():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 60
        # when every operation is called with generated data
        for operation in operations:
            for mode in _modes(operation):

                @seed(SEED)
                @settings(
                    max_examples=EXAMPLES,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.generate],
                )
                @given(case=_cases(operation, mode, values))
                def call(case: schemathesis.Case) -> None:
                    case.call_and_validate(headers=headers, checks=CHECKS)

                try:
                    call()
                except (Exception, BaseExceptionGroup) as exc:  # all reported together below
                    failures.append(f"{operation.label} ({mode.value}):\n{_describe(exc)}")
    # then no answer is a 5xx, breaks the schema or has an undocumented status
    assert not failures, "\n\n".join(failures)
