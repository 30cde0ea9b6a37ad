"""What the apps to the right of ``members`` do when something happens here, wired by the
composition root (``community/apps.py``) — explicit calls, not signals and not polling.

``members`` may import no app to its right (CONVENTIONS.md), yet some of its changes matter
to them: a member an organiser ends must not be charged again (``rewards``), and a
community's currency cannot change once its ledger holds money (``rewards``). The
composition root hands ``members`` the functions to call at start-up (``wire``); until then
(a script that never loads the apps, say) they do nothing and know of no money.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from members.models import Community, Membership


def _nothing(membership: Membership) -> None:
    return None


def _no_money(community: Community) -> bool:
    return False


@dataclass
class Reactions:
    # An organiser ended the membership (status "left"); called in the change's transaction,
    # with the membership locked.
    membership_left: Callable[[Membership], object] = _nothing
    # Whether the community's ledger holds money (its currency is fixed then).
    holds_money: Callable[[Community], bool] = _no_money


reactions = Reactions()


def wire(
    *,
    membership_left: Callable[[Membership], object],
    holds_money: Callable[[Community], bool],
) -> None:
    reactions.membership_left = membership_left
    reactions.holds_money = holds_money
