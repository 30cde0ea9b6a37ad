"""Who may see and do what in the rotation, through the one set of role rules in
members.access (Zulip-style ``access_*``: 404 for an unknown community, 403 otherwise)."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from members import access as member_access
from members import weeks
from members.access import AnyUser
from members.models import Membership


def access_roster(*, user: AnyUser, slug: str) -> Membership:
    """The roster and schedule: every member who reads the community (signing up checks,
    in the service, that they are active)."""
    return member_access.access_directory(user=user, slug=slug)


def may_open_console(viewer: Membership, week: datetime.date) -> bool:
    """Organisers: any week. The moderator on duty (and permanent moderators, who keep
    their powers): the current week."""
    if viewer.is_organiser:
        return True
    return viewer.is_moderator and week == weeks.start_of(viewer.community)


def access_console(*, user: AnyUser, slug: str, week: datetime.date | None = None) -> Membership:
    viewer = member_access.access_directory(user=user, slug=slug)
    if not may_open_console(viewer, week or weeks.start_of(viewer.community)):
        raise PermissionDenied(
            _("The console is for the moderator on duty this week and for organisers.")
        )
    return viewer
