"""Who may see and do what in the rotation, through the one set of role rules in
members.access (Zulip-style ``access_*``: 404 for an unknown community, 403 otherwise)."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
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


def access_console(
    *, user: AnyUser, slug: str, label: str | None = None
) -> tuple[Membership, datetime.date]:
    """The caller and the week (``label``, e.g. 2026-W48; default: this week) of a console
    they may open; 404 for a week not written as such, 403 for someone who may not."""
    viewer = member_access.access_directory(user=user, slug=slug)
    week = weeks.start_of(viewer.community)
    if label is not None:
        try:
            week = weeks.parse(viewer.community, label)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
    if not may_open_console(viewer, week):
        raise PermissionDenied(
            _("The console is for the moderator on duty this week and for organisers.")
        )
    return viewer, week
