"""The demo's way in for a newcomer (README, "try it"): an organiser's invite link to
*product-circle*, printed by ``manage.py demo``. A newcomer signs up, opens it, accepts, and is
a member — no Stripe needed. (On a site without Stripe keys in debug mode, the join page also
offers a clearly marked demo payment: rewards.checkout.join_demo.)

Idempotent: a link the demo made that still works is reused, so a second run prints the same
one and writes nothing.
"""

from __future__ import annotations

from members.models import JoinInvite, Membership
from members.services import invites


def load(*, organiser: Membership) -> JoinInvite:
    """The demo organiser's working invite link to their community, made if there is none."""
    for invite in invites.open_invites(community=organiser.community):
        if invite.created_by_id == organiser.user_id:
            return invite
    return invites.invite_create(actor=organiser, days=invites.MAX_DAYS, max_uses=invites.MAX_USES)
