"""Where a question and its week stand in time: the one source of truth for "can it be
answered", "does its week's ballot take votes", "is it closed".

A week (members.weeks) is lived in phases, in the community's time zone:

- *scheduled*: the week has not begun; its questions are published, and members may read
  them and start writing (the lead time is there so people have time to think);
- *open*: the week's session is on; answers are written and revised;
- *voting*: from the community's voting time (default Friday 00:00) to the week's end,
  members vote on the week's ballot; answers can still be written and revised;
- *closed*: the week has ended; nothing about its answers or votes changes any more.

Briefs that are drafts or submitted have no week yet. The stored ``Question.state`` follows
these phases (``questions.services.sessions_advance``, every few minutes, and the weekly
close), but time decides: a question whose week has ended is closed even before the job
caught up. Services, selectors, templates and the API all ask here.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members import weeks
from members.models import Community
from questions.models import Question


class Phase(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("Open for answers")
    VOTING = "voting", _("Voting")
    CLOSED = "closed", _("Closed")


ANSWERABLE = (Phase.SCHEDULED, Phase.OPEN, Phase.VOTING)


def week_phase(
    community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> Phase:
    """The phase of the community's week starting on ``week`` at ``now``."""
    now = now or timezone.now()
    if now >= weeks.ends_at(community, week):
        return Phase.CLOSED
    if now < weeks.begins_at(community, week):
        return Phase.SCHEDULED
    if now >= weeks.voting_opens_at(community, week):
        return Phase.VOTING
    return Phase.OPEN


def question_phase(question: Question, now: datetime.datetime | None = None) -> Phase:
    """The phase of a question: its brief's state until it is published, then its week's."""
    if question.state == Question.State.DRAFT:
        return Phase.DRAFT
    if question.state == Question.State.SUBMITTED or question.session is None:
        return Phase.SUBMITTED
    if question.state == Question.State.CLOSED:
        return Phase.CLOSED
    return week_phase(question.community, question.session.week, now)


def can_answer(question: Question, now: datetime.datetime | None = None) -> bool:
    """Answers to it can be written and revised now."""
    return question_phase(question, now) in ANSWERABLE


def voting_open(
    community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> bool:
    """The week's ballot takes votes (and their withdrawal) now."""
    return week_phase(community, week, now) == Phase.VOTING


def is_closed(question: Question, now: datetime.datetime | None = None) -> bool:
    return question_phase(question, now) == Phase.CLOSED


def has_ended(
    community: Community, week: datetime.date, now: datetime.datetime | None = None
) -> bool:
    """The week is over (it may be closed by the weekly pipeline)."""
    return week_phase(community, week, now) == Phase.CLOSED
