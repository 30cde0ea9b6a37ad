"""The schedule rule (SPEC §2.6) as one pure function, so that it can be reasoned about and
property-tested apart from the database.

The roster is ordered by sign-up (first come). The weeks after the last fixed shift take the
roster's turns in order, starting with the first entry that signed up after the last fixed
week's turn (that entry may have left the roster since: the rotation then goes on from where
it would have been) and starting over at the end. An override (a pinned week) names who
serves that week without moving the rotation underneath: the turn of a pinned week is
used up as if it had been served. A pin for someone no longer on the roster is ignored.
A week with nobody on the roster has no moderator.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WEEK = datetime.timedelta(days=7)

# An entry's place in the roster: (signed up at, id). Comparable, so an entry that left the
# roster can still say where the rotation stood.
Position = tuple[datetime.datetime, int]


@dataclass(frozen=True)
class Entry:
    """A roster entry as the projection needs it."""

    id: int
    membership_id: int
    position: Position


@dataclass(frozen=True)
class Slot:
    week: datetime.date
    membership_id: int | None  # who serves the week (None: nobody on the roster)
    turn_id: int | None  # the roster entry whose turn the week uses
    pinned: bool


def project(
    *,
    roster: Sequence[Entry],
    after: Position | None,
    pins: Mapping[datetime.date, int],
    start: datetime.date,
    count: int,
) -> list[Slot]:
    """The ``count`` weeks from ``start``: ``roster`` is the active entries (any order),
    ``after`` the position of the last fixed week's turn (None: the rotation has not
    begun), ``pins`` the pinned weeks (week → membership id)."""
    ordered = sorted(roster, key=lambda e: e.position)
    on_roster = {e.membership_id for e in ordered}
    index = 0
    if after is not None:
        index = next((i for i, e in enumerate(ordered) if e.position > after), 0)
    slots = []
    for n in range(count):
        week = start + n * WEEK
        turn = ordered[(index + n) % len(ordered)] if ordered else None
        pinned = pins.get(week)
        if pinned is not None and pinned in on_roster:
            slots.append(Slot(week, pinned, turn.id if turn else None, True))
        else:
            slots.append(
                Slot(week, turn.membership_id if turn else None, turn.id if turn else None, False)
            )
    return slots
