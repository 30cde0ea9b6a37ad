"""The shared worlds of tests/worlds.py: built once per module, every test's changes undone
(rows by its savepoint, objects by its own copy), and nothing left after the module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from members.models import Community, Membership
from tests.factories import add_member, make_community
from tests.worlds import fresh, settled, shared_world


@pytest.fixture(scope="module")
def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with shared_world(django_db_blocker):
        community = make_community(slug="shared-world")
        yield settled({"community": community, "member": add_member(community)})


@pytest.fixture
def world(_world: dict[str, Any], db: None) -> dict[str, Any]:
    return fresh(_world)


@pytest.mark.parametrize("n", range(3))
def test_each_test_starts_from_the_world_as_built(world: dict[str, Any], n: int) -> None:
    assert Community.objects.filter(slug="shared-world").count() == 1
    assert world["member"].status == Membership.Status.ACTIVE
    assert not Community.objects.filter(slug__startswith="extra-").exists()
    # changes to the rows and to the objects, undone before the next test
    world["member"].status = Membership.Status.LAPSED
    world["member"].save(update_fields=["status"])
    make_community(slug=f"extra-{n}")
    assert Membership.objects.get(pk=world["member"].pk).status == Membership.Status.LAPSED


def test_a_shared_world_leaves_nothing_behind(
    django_db_setup: None, django_db_blocker: Any
) -> None:
    with shared_world(django_db_blocker):
        make_community(slug="gone-after")
        assert Community.objects.filter(slug="gone-after").exists()
    with django_db_blocker.unblock():
        assert not Community.objects.filter(slug="gone-after").exists()
