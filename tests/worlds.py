"""Worlds built once per test module and shared by its tests.

A permission matrix or a query budget asks hundreds of questions of the same rows; building
those rows for every case was most of the suite's time. ``shared_world`` builds them once per
module (per xdist worker), inside a transaction that is rolled back when the module ends.
Every test still runs in its own savepoint inside it (pytest-django's ``db``), so whatever a
test writes is undone before the next one; and each test gets its own deep copy of the
world's Python objects (``fresh``), so an instance a test changes in memory does not leak
either. A test that needs commits (``transaction=True``) cannot use a shared world.

A world lives for minutes, not the second a per-test fixture lived, so the module runs on a
clock moved to Wednesday noon of the current week in the communities' default zone (still
ticking, ``midweek``): the week a world was built in cannot end under its tests.

    @pytest.fixture(scope="module")
    def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
        with shared_world(django_db_blocker):
            yield settled(build_world())

    @pytest.fixture
    def world(_world: World, db: None) -> World:
        return fresh(_world)
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

T = TypeVar("T")


def midweek() -> datetime.datetime:
    """Wednesday 12:00 (Asia/Shanghai, the communities' default zone) of the current week."""
    zone = ZoneInfo("Asia/Shanghai")
    today = timezone.localtime(timezone.now(), zone).date()
    wednesday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(days=2)
    return datetime.datetime.combine(wednesday, datetime.time(12, 0), tzinfo=zone)


@contextmanager
def shared_world(django_db_blocker: Any) -> Iterator[None]:
    """Open the module's transaction (rolled back at the end, whatever happened), on a clock
    at ``midweek`` for the module's duration."""
    with time_machine.travel(midweek(), tick=True), django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            cache.clear()  # nothing the world put in the cache outlives it


def settled(world: T) -> T:
    """Run the world's deferred constraint checks now, once. Left pending, every test would
    run them again (Django's TestCase sets constraints immediate inside each test's
    savepoint, and the rollback puts the checks back): most of a large world's cost."""
    connection.check_constraints()
    return world


def fresh(world: T) -> T:
    """A test's own copy of the world's objects (the rows are shared, rolled back per test)."""
    return copy.deepcopy(world)
