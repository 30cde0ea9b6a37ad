"""Two requests doing the same roster action at once end with one winner (threads, each with
its own database connection; the community's row lock serialises them)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from rotation import services
from rotation.models import Override, RosterEntry, SwapRequest
from tests.rewards.weekly_helpers import funded_community
from tests.rotation.helpers import sign_up

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(*calls: Callable[[], Any]) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            call()
            outcomes.append("done")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_signing_up_twice_at_once_makes_one_entry(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=4, slug="race-roster")
    member = people[0]
    outcomes = _at_once(
        lambda: services.roster_join(membership=member),
        lambda: services.roster_join(membership=member),
    )
    assert outcomes == ["You are on the roster already.", "done"]
    assert RosterEntry.objects.filter(community=community, membership=member).count() == 1


def test_two_requests_for_the_same_week_at_once_one_is_refused(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=6, slug="race-swap")
    a, b, c = people[:3]
    sign_up([a, b, c])
    services.rotation_tick(community=community)  # W45 a, W46 b, W47 c, W48 a
    outcomes = _at_once(
        lambda: services.swap_request(
            requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
        ),
        lambda: services.swap_request(
            requester=a, requester_week="2026-W48", responder_id=c.pk, responder_week="2026-W47"
        ),
    )
    assert outcomes == [
        "One of these weeks is already in a swap waiting for an answer.",
        "done",
    ]
    assert SwapRequest.objects.filter(community=community).count() == 1
    assert not Override.objects.filter(community=community).exists()
