"""Worlds built once per test module and shared by its tests.

A permission matrix or a query budget asks hundreds of questions of the same rows; building
those rows for every case was most of the suite's time. ``shared_world`` builds them once per
module (per xdist worker), inside a transaction that is rolled back when the module ends.
Every test still runs in its own savepoint inside it (pytest-django's ``db``), so whatever a
test writes is undone before the next one; and each test gets its own deep copy of the
world's Python objects (``fresh``), so an instance a test changes in memory does not leak
either. A test that needs commits (``transaction=True``) cannot use a shared world.

    @pytest.fixture(scope="module")
    def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
        with shared_world(django_db_blocker):
            yield build_world()

    @pytest.fixture
    def world(_world: World, db: None) -> World:
        return fresh(_world)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


@contextmanager
def shared_world(django_db_blocker: Any) -> Iterator[None]:
    """Open the module's transaction (rolled back at the end, whatever happened)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            cache.clear()  # nothing the world put in the cache outlives it


def fresh(world: T) -> T:
    """A test's own copy of the world's objects (the rows are shared, rolled back per test)."""
    return copy.deepcopy(world)
