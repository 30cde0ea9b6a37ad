"""A community's weeks: when they start and end in its time zone, how they are named.

A week runs from the community's ``week_start`` day at 00:00 to the same day a week later, in
its ``time_zone`` (default Monday 00:00 to Sunday 24:00, Asia/Shanghai). A week is identified
by the date it starts on and written as an ISO week, ``2026-W48``: the ISO week of its fourth
day (for weeks starting on Monday this is simply the ISO week of the start).
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Community

_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")
# Weeks a community can have: far enough from the calendar's ends that a week's neighbours
# (and its end, a week later) are still dates.
FIRST_YEAR, LAST_YEAR = 1970, 2999


def _zone(community: Community) -> ZoneInfo:
    return ZoneInfo(community.time_zone)


def start_of(community: Community, moment: datetime.datetime | None = None) -> datetime.date:
    """The first day of the week that contains ``moment`` (default: now)."""
    local = timezone.localtime(moment or timezone.now(), _zone(community)).date()
    return local - datetime.timedelta(days=(local.weekday() - community.week_start) % 7)


def begins_at(community: Community, start: datetime.date) -> datetime.datetime:
    """The moment the week starting on ``start`` begins (aware)."""
    return datetime.datetime.combine(start, datetime.time(0), tzinfo=_zone(community))


def ends_at(community: Community, start: datetime.date) -> datetime.datetime:
    """The moment the week ends (and the next begins)."""
    return begins_at(community, start + datetime.timedelta(days=7))


def voting_opens_at(community: Community, start: datetime.date) -> datetime.datetime:
    offset = (community.voting_opens_weekday - community.week_start) % 7
    day = start + datetime.timedelta(days=offset)
    return datetime.datetime.combine(day, community.voting_opens_time, tzinfo=_zone(community))


def brief_deadline(community: Community, start: datetime.date) -> datetime.datetime:
    """The last moment a brief may be submitted for the week starting on ``start``."""
    return begins_at(community, start) - datetime.timedelta(days=community.brief_lead_days)


def first_week_for_brief(
    community: Community, submitted_at: datetime.datetime | None = None
) -> datetime.date:
    """The earliest week a brief submitted at ``submitted_at`` (default now) may go into."""
    moment = submitted_at or timezone.now()
    start = start_of(community, moment)
    while brief_deadline(community, start) < moment:
        start += datetime.timedelta(days=7)
    return start


def label(start: datetime.date) -> str:
    year, week, _day = (start + datetime.timedelta(days=3)).isocalendar()
    return f"{year}-W{week:02d}"


def parse(community: Community, value: str) -> datetime.date:
    """The start date of the community's week written ``2026-W48``; ValidationError if the
    text is not such a week."""
    match = _LABEL.match((value or "").strip())
    if match is None:
        raise ValidationError(_("Write a week as 2026-W48."), code="invalid")
    if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise ValidationError(_("There is no such week."), code="invalid")
    try:
        monday = datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValidationError(_("There is no such week."), code="invalid") from None
    # The week's fourth day is in that ISO week: it starts between Friday before and Thursday.
    return monday + datetime.timedelta(days=(community.week_start - 4) % 7 - 3)


def is_week_start(community: Community, day: datetime.date) -> bool:
    return day.weekday() == community.week_start
