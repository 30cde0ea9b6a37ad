"""Issue 3's rules at the service level: briefs and their lead time, weekly sessions,
invitations, answers and revisions, discussion, ratings, challenge questions, notifications
and search — each rule both ways, and in the negative case nothing changed."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from django.utils.dateformat import format as date_format

from members import weeks
from members.models import Community, Membership, Tag
from questions import notifications, selectors, services
from questions.models import (
    Answer,
    AnswerRevision,
    Comment,
    Invitation,
    Notification,
    Question,
    Rating,
    WeekSession,
)
from tests.factories import UserFactory, add_member, make_community, organiser_of, set_status, tag
from tests.questions.helpers import (
    DAY,
    WEEK,
    age_comment,
    answer,
    brief,
    closed,
    comment,
    published,
    this_week,
    voting_over,
)

pytestmark = pytest.mark.django_db

State = Question.State
Kind = Notification.Kind


def _too_late(community: Community, week: datetime.date, next_week: datetime.date) -> str:
    deadline = weeks.brief_deadline(community, week)
    return (
        f"Too late for {weeks.label(week)}: briefs for it had to be in by "
        f"{date_format(deadline, 'Y-m-d H:i')} ({community.brief_lead_days} days ahead). "
        f"The next possible week is {weeks.label(next_week)}."
    )


def _state(question: Question) -> tuple[Any, ...]:
    question.refresh_from_db()
    return (
        question.state,
        question.session_id,
        question.scheduled_at,
        question.scheduled_by_id,
        question.submitted_at,
        question.title,
    )


@pytest.fixture
def asker(community: Community) -> Membership:
    return add_member(community, profile={"handle": "asker"})


@pytest.fixture
def answerer(community: Community) -> Membership:
    return add_member(community, profile={"handle": "answerer"})


# --- Briefs: states -----------------------------------------------------------------------------


def test_a_draft_is_kept_until_its_asker_submits_it(asker: Membership) -> None:
    # given
    draft = brief(asker, submit=False)
    assert (draft.state, draft.submitted_at, draft.session_id) == (State.DRAFT, None, None)
    # when
    submitted = services.question_update(author=asker, question=draft, changes={"submit": True})
    # then
    assert submitted.state == State.SUBMITTED
    assert submitted.submitted_at is not None
    assert submitted.session_id is None


def test_a_brief_goes_submitted_scheduled_open_closed(
    community: Community, asker: Membership, moderator: Membership
) -> None:
    # given a brief submitted long enough before next week
    question = brief(asker)
    next_week = this_week(community) + WEEK
    # when it is scheduled into next week
    services.question_schedule(moderator=moderator, question=question, week=next_week)
    question.refresh_from_db()
    # then it is published but not open yet
    assert question.state == State.SCHEDULED
    assert question.is_published
    assert question.session == WeekSession.objects.get(community=community, week=next_week)
    assert question.scheduled_by == moderator
    # when next week begins, and when it ends
    assert services.sessions_advance(now=weeks.begins_at(community, next_week)) == (1, 0)
    question.refresh_from_db()
    assert question.state == State.OPEN
    assert services.sessions_advance(now=weeks.ends_at(community, next_week)) == (0, 1)
    question.refresh_from_db()
    assert question.state == State.CLOSED


def test_scheduling_into_the_running_week_opens_the_question_at_once(
    community: Community, asker: Membership, moderator: Membership
) -> None:
    question = brief(asker)
    services.question_schedule(moderator=moderator, question=question, week=this_week(community))
    question.refresh_from_db()
    assert question.state == State.OPEN


def test_sessions_advance_is_idempotent(
    community: Community, asker: Membership, moderator: Membership
) -> None:
    # given one question of next week, one of this week and one whose week is over
    published(asker, week=this_week(community) + WEEK, title="coming")
    published(asker, title="running")
    voting_over(published(asker, title="over"))
    start = weeks.begins_at(community, this_week(community) + WEEK)
    # when the job runs twice at the start of next week
    first = services.sessions_advance(now=start)
    second = services.sessions_advance(now=start)
    # then the first run opened one and closed two, the second changed nothing
    assert first == (1, 2)
    assert second == (0, 0)
    states = dict(Question.objects.values_list("title", "state"))
    assert states == {"coming": State.OPEN, "running": State.CLOSED, "over": State.CLOSED}


def test_sessions_advance_uses_each_communitys_own_week(db: None) -> None:
    # given a community in New York whose weeks start on Sunday, with a question next week
    ny = make_community(slug="ny", time_zone="America/New_York", week_start=6)
    sunday = weeks.start_of(ny) + WEEK
    question = published(add_member(ny), week=sunday)
    begins = weeks.begins_at(ny, sunday)
    local = begins.astimezone(ZoneInfo("America/New_York"))
    assert (local.weekday(), local.time()) == (6, datetime.time(0))  # Sunday midnight there
    # when the job runs a second before and at that midnight
    assert services.sessions_advance(now=begins - datetime.timedelta(seconds=1)) == (0, 0)
    assert services.sessions_advance(now=begins) == (1, 0)
    # then
    question.refresh_from_db()
    assert question.state == State.OPEN


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "   "}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "At most 200 characters."),
        ({"title": "a\x00b"}, "title", "Null characters are not allowed."),
        ({"title": ["a"]}, "title", "Enter text."),
        ({"background": ""}, "background", "This field is required."),
        ({"background": "x" * 20001}, "background", "At most 20000 characters."),
        ({"wanted": None}, "wanted", "This field is required."),
        ({"wanted": "x" * 5001}, "wanted", "At most 5000 characters."),
        ({"needs": ["Nope"]}, "needs", None),
        ({"needs": [1, 2]}, "needs", "Give a list of skill names."),
        ({"needs": ["Planning"] * 11}, "needs", "At most 10 tags."),
        ({"preferred_week": datetime.date(2026, 11, 25)}, "preferred_week", "Choose a week."),
    ],
)
def test_a_bad_brief_is_refused_naming_the_field_and_nothing_is_saved(
    asker: Membership, change: dict[str, Any], field: str, message: str | None
) -> None:
    # given
    data = {"title": "T", "background": "B", "wanted": "W", "needs": ["Planning"], **change}
    # when
    with pytest.raises(ValidationError) as caught:
        services.question_create(author=asker, **data)
    # then
    assert list(caught.value.message_dict) == [field]
    if message is not None:
        assert caught.value.message_dict[field] == [message]
    assert Question.objects.count() == 0


def test_the_asker_edits_a_brief_until_it_is_scheduled(
    community: Community, asker: Membership, moderator: Membership
) -> None:
    # given a submitted brief: it can be changed
    question = brief(asker)
    services.question_update(
        author=asker, question=question, changes={"title": "Sharper", "needs": ["Planning"]}
    )
    question.refresh_from_db()
    assert question.title == "Sharper"
    assert [t.name for t in question.needs.all()] == ["Planning"]
    # when it is scheduled, then it cannot
    services.question_schedule(moderator=moderator, question=question, week=this_week(community))
    before = _state(question)
    with pytest.raises(ValidationError) as caught:
        services.question_update(author=asker, question=question, changes={"title": "Later"})
    assert caught.value.message_dict == {"state": ["A scheduled brief can no longer be changed."]}
    assert _state(question) == before


def test_only_the_asker_edits_a_brief(asker: Membership, answerer: Membership) -> None:
    question = brief(asker)
    before = _state(question)
    with pytest.raises(ValidationError) as caught:
        services.question_update(author=answerer, question=question, changes={"title": "Mine"})
    assert caught.value.messages == ["Only the person who asked can change this brief."]
    assert _state(question) == before


def test_a_brief_update_names_fields_that_cannot_be_changed(asker: Membership) -> None:
    question = brief(asker)
    before = _state(question)
    with pytest.raises(ValidationError) as caught:
        services.question_update(
            author=asker, question=question, changes={"state": "open", "is_challenge": True}
        )
    assert caught.value.message_dict == {
        "is_challenge": ["This field cannot be changed."],
        "state": ["This field cannot be changed."],
    }
    assert _state(question) == before


# --- Briefs: lead time --------------------------------------------------------------------------


def test_scheduling_a_brief_submitted_too_late_names_the_next_possible_week(
    community: Community, asker: Membership, moderator: Membership
) -> None:
    # given a brief submitted just now: too late for this week
    question = brief(asker, days_ago=None)
    week = this_week(community)
    before = _state(question)
    # when
    with pytest.raises(ValidationError) as caught:
        services.question_schedule(moderator=moderator, question=question, week=week)
    # then the error is on the week and names the first week the brief can go into
    first = weeks.first_week_for_brief(community, question.submitted_at)
    assert first > week
    assert caught.value.message_dict == {"week": [_too_late(community, week, first)]}
    assert _state(question) == before
    assert WeekSession.objects.count() == 0
    assert Notification.objects.count() == 0
    # and that week does take it
    services.question_schedule(moderator=moderator, question=question, week=first)
    question.refresh_from_db()
    assert question.state == State.SCHEDULED


def test_the_next_possible_week_counts_from_when_the_brief_was_submitted(
    db: None,
) -> None:
    """With a ten-day lead time, next week's deadline is always past, yet a brief submitted
    just after this week's deadline still made next week's: the message names next week."""
    # given
    community = make_community(slug="lead", brief_lead_days=10)
    asker = add_member(community)
    moderator = organiser_of(community)
    week = this_week(community)
    question = brief(asker, days_ago=None)
    Question.objects.filter(pk=question.pk).update(
        submitted_at=weeks.brief_deadline(community, week) + datetime.timedelta(minutes=1)
    )
    question.refresh_from_db()
    # when
    with pytest.raises(ValidationError) as caught:
        services.question_schedule(moderator=moderator, question=question, week=week)
    # then
    assert caught.value.message_dict == {"week": [_too_late(community, week, week + WEEK)]}
    services.question_schedule(moderator=moderator, question=question, week=week + WEEK)
    question.refresh_from_db()
    assert question.session.week == week + WEEK


def test_a_brief_in_exactly_at_the_deadline_is_in_time(
    community: Community, asker: Membership, moderator: Membership
) -> None:
    # given two briefs, one in at the deadline and one a second later
    week = this_week(community)
    deadline = weeks.brief_deadline(community, week)
    on_time, late = brief(asker, title="on time"), brief(asker, title="late")
    Question.objects.filter(pk=on_time.pk).update(submitted_at=deadline)
    Question.objects.filter(pk=late.pk).update(
        submitted_at=deadline + datetime.timedelta(seconds=1)
    )
    # when / then
    services.question_schedule(moderator=moderator, question=on_time, week=week)
    with pytest.raises(ValidationError) as caught:
        services.question_schedule(moderator=moderator, question=late, week=week)
    assert list(caught.value.message_dict) == ["week"]
    assert dict(Question.objects.values_list("title", "state")) == {
        "on time": State.OPEN,
        "late": State.SUBMITTED,
    }


def test_a_preferred_week_too_late_names_the_next_possible_week(
    community: Community, asker: Membership
) -> None:
    # given
    week = this_week(community)
    first = weeks.first_week_for_brief(community)
    # when
    with pytest.raises(ValidationError) as caught:
        services.question_create(
            author=asker, title="T", background="B", wanted="W", preferred_week=week
        )
    # then
    assert caught.value.message_dict == {"preferred_week": [_too_late(community, week, first)]}
    assert Question.objects.count() == 0
    # and the week it names is accepted
    question = services.question_create(
        author=asker, title="T", background="B", wanted="W", preferred_week=first
    )
    assert question.preferred_week == first


def test_a_preferred_week_too_late_is_refused_on_update_too(
    community: Community, asker: Membership
) -> None:
    question = brief(asker)
    before = _state(question)
    with pytest.raises(ValidationError) as caught:
        services.question_update(
            author=asker,
            question=question,
            changes={"preferred_week": this_week(community), "title": "Changed"},
        )
    assert list(caught.value.message_dict) == ["preferred_week"]
    assert _state(question) == before
    question.refresh_from_db()
    assert question.preferred_week is None


@pytest.mark.parametrize(
    ("setup", "field", "message"),
    [
        ("draft", "state", "Only submitted briefs can be scheduled."),
        ("scheduled", "state", "Only submitted briefs can be scheduled."),
        ("past_week", "week", "That week is over."),
        ("not_a_week_start", "week", "Choose a week."),
    ],
)
def test_scheduling_refuses_what_cannot_be_scheduled(
    community: Community,
    asker: Membership,
    moderator: Membership,
    setup: str,
    field: str,
    message: str,
) -> None:
    # given
    week = this_week(community) + WEEK
    question = brief(asker, submit=setup != "draft")
    if setup == "scheduled":
        services.question_schedule(moderator=moderator, question=question, week=week)
    if setup == "past_week":
        week = this_week(community) - WEEK
    if setup == "not_a_week_start":
        week += DAY
    before = _state(question)
    sessions = WeekSession.objects.count()
    notified = Notification.objects.count()
    # when
    with pytest.raises(ValidationError) as caught:
        services.question_schedule(moderator=moderator, question=question, week=week)
    # then
    assert caught.value.message_dict == {field: [message]}
    assert _state(question) == before
    assert WeekSession.objects.count() == sessions
    assert Notification.objects.count() == notified


def test_scheduling_publishes_the_brief_and_tells_its_asker_by_email_once(
    community: Community,
    asker: Membership,
    moderator: Membership,
    member: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    # given a submitted brief: other members cannot see it yet
    question = brief(asker, title="新手引导怎么做？")
    assert not selectors.visible_questions(viewer=member, community=community).exists()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.question_schedule(
            moderator=moderator, question=question, week=this_week(community)
        )
    # then
    assert list(selectors.visible_questions(viewer=member, community=community)) == [question]
    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind, notification.question) == (
        asker.user,
        Kind.BRIEF_SCHEDULED,
        question,
    )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [asker.user.email]
    assert mailoutbox[0].subject == "[Circle] Your brief was scheduled"
    assert "新手引导怎么做？" in mailoutbox[0].body
    assert f"/c/circle/questions/{question.pk}/" in mailoutbox[0].body
    # and the e-mail job run again sends nothing
    assert notifications.email(notification.pk) is False
    assert len(mailoutbox) == 1


# --- Weeks (members/weeks.py) -------------------------------------------------------------------

UTC = datetime.UTC


def test_weeks_in_shanghai_starting_on_monday(community: Community) -> None:
    # 2026-11-29 16:30 UTC is Monday 00:30 in Shanghai: the week of Monday 30 November.
    assert weeks.start_of(community, datetime.datetime(2026, 11, 29, 15, 59, tzinfo=UTC)) == (
        datetime.date(2026, 11, 23)
    )
    assert weeks.start_of(community, datetime.datetime(2026, 11, 29, 16, 30, tzinfo=UTC)) == (
        datetime.date(2026, 11, 30)
    )
    start = datetime.date(2026, 11, 23)
    assert weeks.label(start) == "2026-W48"
    assert weeks.parse(community, "2026-W48") == start
    assert weeks.begins_at(community, start) == datetime.datetime(2026, 11, 22, 16, tzinfo=UTC)
    assert weeks.ends_at(community, start) == datetime.datetime(2026, 11, 29, 16, tzinfo=UTC)
    assert weeks.voting_opens_at(community, start) == datetime.datetime(
        2026, 11, 26, 16, tzinfo=UTC
    )  # Friday 00:00 in Shanghai
    assert weeks.brief_deadline(community, start) == datetime.datetime(
        2026, 11, 19, 16, tzinfo=UTC
    )  # three days ahead
    assert weeks.is_week_start(community, start)
    assert not weeks.is_week_start(community, start + DAY)


def test_weeks_in_new_york_starting_on_sunday(db: None) -> None:
    # given
    ny = make_community(
        slug="ny", time_zone="America/New_York", week_start=6, voting_opens_weekday=4
    )
    # Saturday 28 November 22:00 in New York is 03:00 UTC on Sunday: still the week of Sunday 22.
    moment = datetime.datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    start = datetime.date(2026, 11, 22)
    # then
    assert weeks.start_of(ny, moment) == start
    assert weeks.start_of(ny, datetime.datetime(2026, 11, 29, 5, 0, tzinfo=UTC)) == start + WEEK
    assert weeks.label(start) == "2026-W48"  # its fourth day, Wednesday 25, is in ISO week 48
    assert weeks.parse(ny, "2026-W48") == start
    assert weeks.begins_at(ny, start) == datetime.datetime(2026, 11, 22, 5, tzinfo=UTC)
    assert weeks.ends_at(ny, start) == datetime.datetime(2026, 11, 29, 5, tzinfo=UTC)
    assert weeks.voting_opens_at(ny, start) == datetime.datetime(2026, 11, 27, 5, tzinfo=UTC)
    assert weeks.brief_deadline(ny, start) == datetime.datetime(2026, 11, 19, 5, tzinfo=UTC)
    assert weeks.is_week_start(ny, start)
    assert not weeks.is_week_start(ny, datetime.date(2026, 11, 23))


def test_a_week_across_the_end_of_summer_time_is_an_hour_longer(db: None) -> None:
    ny = make_community(slug="ny", time_zone="America/New_York", week_start=6)
    start = datetime.date(2026, 11, 1)  # clocks go back at 02:00 that Sunday
    assert weeks.begins_at(ny, start) == datetime.datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert weeks.ends_at(ny, start) == datetime.datetime(2026, 11, 8, 5, tzinfo=UTC)
    length = weeks.ends_at(ny, start).astimezone(UTC) - weeks.begins_at(ny, start)
    assert length == WEEK + datetime.timedelta(hours=1)


def test_the_first_week_for_a_brief_turns_at_the_deadline(db: None) -> None:
    ny = make_community(slug="ny", time_zone="America/New_York", week_start=6)
    deadline = weeks.brief_deadline(ny, datetime.date(2026, 11, 22))
    assert deadline == datetime.datetime(2026, 11, 19, 5, tzinfo=UTC)
    assert weeks.first_week_for_brief(ny, deadline) == datetime.date(2026, 11, 22)
    assert weeks.first_week_for_brief(ny, deadline + datetime.timedelta(seconds=1)) == (
        datetime.date(2026, 11, 29)
    )


@pytest.mark.parametrize("week_start", range(7))
def test_a_week_label_reads_back_as_the_same_week_for_any_start_day(
    db: None, week_start: int
) -> None:
    # given a community whose weeks start on that day
    community = make_community(slug=f"start-{week_start}", week_start=week_start)
    first = weeks.start_of(community, datetime.datetime(2025, 12, 1, 12, tzinfo=UTC))
    starts = [first + i * WEEK for i in range(110)]  # over two new years, 2026 has a week 53
    # when / then: labels are distinct, in order, and read back as the same start
    labels = [weeks.label(s) for s in starts]
    assert len(set(labels)) == len(labels)
    assert labels == sorted(labels)
    assert [weeks.parse(community, label) for label in labels] == starts
    assert all(weeks.is_week_start(community, s) for s in starts)
    assert "2026-W53" in labels


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write a week as 2026-W48."),
        ("2026-48", "Write a week as 2026-W48."),
        ("2026-W4", "Write a week as 2026-W48."),
        ("W48-2026", "Write a week as 2026-W48."),
        ("2026-W48x", "Write a week as 2026-W48."),
        ("2026-W00", "There is no such week."),
        ("2025-W53", "There is no such week."),
        ("2026-W54", "There is no such week."),
        ("0000-W01", "There is no such week."),
    ],
)
def test_a_week_that_is_not_one_is_refused(community: Community, text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        weeks.parse(community, text)
    assert caught.value.messages == [message]


@pytest.mark.parametrize("text", ["9999-W52", "0001-W01"])
def test_a_week_at_the_ends_of_the_calendar_is_refused(db: None, text: str) -> None:
    sunday_weeks = make_community(slug="sunday", week_start=6)
    with pytest.raises(ValidationError) as caught:
        weeks.parse(sunday_weeks, text)
    assert caught.value.messages == ["There is no such week."]


# --- Finding answerers --------------------------------------------------------------------------


def test_each_new_invitee_is_notified_once(
    community: Community,
    asker: Membership,
    moderator: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    # given
    question = published(asker)
    a, b, c = (add_member(community) for _ in range(3))
    # when the moderator invites two, then those two again and a third
    with django_capture_on_commit_callbacks(execute=True):
        first = services.invitations_create(
            moderator=moderator, question=question, invitees=[a.pk, b.pk, a.pk]
        )
    with django_capture_on_commit_callbacks(execute=True):
        second = services.invitations_create(
            moderator=moderator, question=question, invitees=[b.pk, a.pk, c.pk]
        )
    # then
    assert sorted(i.invitee_id for i in first) == sorted([a.pk, b.pk])
    assert [i.invitee_id for i in second] == [c.pk]
    assert Invitation.objects.filter(question=question).count() == 3
    invited = Notification.objects.filter(kind=Kind.INVITED).values_list("recipient", flat=True)
    assert sorted(invited) == sorted([a.user_id, b.user_id, c.user_id])
    assert sorted(m.to[0] for m in mailoutbox) == sorted(m.user.email for m in (a, b, c))
    assert {m.subject for m in mailoutbox} == {"[Circle] You are invited to answer a question"}


@pytest.mark.parametrize("who", ["lapsed", "candidate", "pending", "other_community", "unknown"])
def test_only_active_members_of_the_community_can_be_invited(
    community: Community, asker: Membership, moderator: Membership, who: str
) -> None:
    # given
    question = published(asker)
    fine = add_member(community)
    if who == "other_community":
        invitee_id = add_member(make_community(slug="other")).pk
    elif who == "unknown":
        invitee_id = 10**9
    else:
        status, role = {
            "lapsed": ("lapsed", None),
            "candidate": ("active", "candidate"),
            "pending": ("pending", None),
        }[who]
        invitee_id = set_status(add_member(community), status, role).pk
    # when
    with pytest.raises(ValidationError) as caught:
        services.invitations_create(
            moderator=moderator, question=question, invitees=[fine.pk, invitee_id]
        )
    # then nobody is invited, not even the one who could be
    assert caught.value.message_dict == {"members": ["Invite active members of this community."]}
    assert Invitation.objects.count() == 0
    assert Notification.objects.filter(kind=Kind.INVITED).count() == 0


@pytest.mark.parametrize("state", ["submitted", "closed"])
def test_invitations_wait_for_a_published_open_question(
    community: Community, asker: Membership, moderator: Membership, state: str
) -> None:
    question = brief(asker) if state == "submitted" else closed(published(asker))
    with pytest.raises(ValidationError) as caught:
        services.invitations_create(
            moderator=moderator, question=question, invitees=[add_member(community).pk]
        )
    assert list(caught.value.message_dict) == ["question"]
    assert Invitation.objects.count() == 0


def test_an_invitation_needs_someone_to_invite(asker: Membership, moderator: Membership) -> None:
    question = published(asker)
    with pytest.raises(ValidationError) as caught:
        services.invitations_create(moderator=moderator, question=question, invitees=[])
    assert caught.value.message_dict == {"members": ["Choose at least one member."]}


# --- Answers -------------------------------------------------------------------------------------


def test_an_answer_is_rendered_kept_as_revision_one_and_tells_the_asker(
    asker: Membership,
    answerer: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    # given
    question = published(asker)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        written = answer(answerer, question, "# Method\n\nAsk *why* five times.")
    # then
    assert written.body == "# Method\n\nAsk *why* five times."
    assert written.body_html == (
        '<h1 id="h-method">Method</h1>\n<p>Ask <em>why</em> five times.</p>\n'
    )
    assert written.revision == 1
    assert list(AnswerRevision.objects.values_list("answer", "number", "body")) == [
        (written.pk, 1, written.body)
    ]
    notification = Notification.objects.get(kind=Kind.NEW_ANSWER)
    assert (notification.recipient, notification.kind, notification.answer) == (
        asker.user,
        Kind.NEW_ANSWER,
        written,
    )
    assert [m.to for m in mailoutbox] == [[asker.user.email]]
    assert mailoutbox[0].subject == "[Circle] Your question got an answer"
    assert "answerer answered your question" in mailoutbox[0].body


def test_answering_ones_own_question_notifies_nobody(asker: Membership) -> None:
    question = published(asker)
    Notification.objects.all().delete()
    answer(asker, question)
    assert Notification.objects.count() == 0


def test_a_member_answers_a_question_once_and_revises_after(
    asker: Membership, answerer: Membership
) -> None:
    # given
    question = published(asker)
    first = answer(answerer, question, "first")
    notified = Notification.objects.count()
    # when
    with pytest.raises(ValidationError) as caught:
        answer(answerer, question, "second")
    # then
    assert caught.value.message_dict == {
        "body": ["You have already answered this question; revise your answer instead."]
    }
    assert list(Answer.objects.values_list("pk", "body", "revision")) == [(first.pk, "first", 1)]
    assert AnswerRevision.objects.count() == 1
    assert Notification.objects.count() == notified


def test_every_revision_is_kept_and_numbered(asker: Membership, answerer: Membership) -> None:
    # given
    question = published(asker)
    written = answer(answerer, question, "v1")
    # when
    services.answer_revise(author=answerer, answer=written, body="v2")
    services.answer_revise(author=answerer, answer=written, body="v2")  # unchanged: no revision
    revised = services.answer_revise(author=answerer, answer=written, body="**v3**")
    # then
    assert (revised.revision, revised.body, revised.body_html) == (
        3,
        "**v3**",
        "<p><strong>v3</strong></p>\n",
    )
    assert list(AnswerRevision.objects.filter(answer=written).values_list("number", "body")) == [
        (1, "v1"),
        (2, "v2"),
        (3, "**v3**"),
    ]
    assert [r.number for r in selectors.revisions(answer=written)] == [3, 2, 1]


@pytest.mark.parametrize("how", ["voting_over", "closed"])
def test_an_answer_cannot_be_revised_after_voting_closes(
    asker: Membership, answerer: Membership, how: str
) -> None:
    # given an answer, then the question's voting closes
    question = published(asker)
    written = answer(answerer, question, "v1")
    voting_over(question) if how == "voting_over" else closed(question)
    # when
    with pytest.raises(ValidationError) as caught:
        services.answer_revise(author=answerer, answer=written, body="v2")
    # then
    assert caught.value.message_dict == {
        "body": ["Voting on this question has closed; answers can no longer change."]
    }
    written.refresh_from_db()
    assert (written.body, written.revision) == ("v1", 1)
    assert AnswerRevision.objects.count() == 1


@pytest.mark.parametrize("how", ["voting_over", "closed"])
def test_a_question_cannot_be_answered_after_voting_closes(
    asker: Membership, answerer: Membership, how: str
) -> None:
    question = published(asker)
    voting_over(question) if how == "voting_over" else closed(question)
    notified = Notification.objects.count()
    with pytest.raises(ValidationError) as caught:
        answer(answerer, question)
    assert list(caught.value.message_dict) == ["body"]
    assert Answer.objects.count() == AnswerRevision.objects.count() == 0
    assert Notification.objects.count() == notified


def test_a_brief_not_yet_published_cannot_be_answered(
    asker: Membership, answerer: Membership
) -> None:
    question = brief(asker)
    with pytest.raises(ValidationError) as caught:
        answer(answerer, question)
    assert caught.value.messages == ["This question is not published yet."]
    assert Answer.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "This field is required."),
        ("   \n ", "This field is required."),
        ("x" * 100_001, "At most 100000 characters."),
        ("a\x00b", "Null characters are not allowed."),
    ],
)
def test_a_bad_answer_is_refused_and_nothing_is_saved(
    asker: Membership, answerer: Membership, body: str, message: str
) -> None:
    question = published(asker)
    notified = Notification.objects.count()
    with pytest.raises(ValidationError) as caught:
        answer(answerer, question, body)
    assert caught.value.message_dict == {"body": [message]}
    assert Answer.objects.count() == AnswerRevision.objects.count() == 0
    assert Notification.objects.count() == notified


def test_only_the_author_revises_an_answer(
    asker: Membership, answerer: Membership, member: Membership
) -> None:
    question = published(asker)
    written = answer(answerer, question, "mine")
    with pytest.raises(ValidationError) as caught:
        services.answer_revise(author=member, answer=written, body="yours")
    assert caught.value.messages == ["Only the author can revise an answer."]
    written.refresh_from_db()
    assert (written.body, written.revision) == ("mine", 1)


@pytest.mark.parametrize("status", ["lapsed", "left", "pending"])
def test_a_member_who_is_not_active_neither_answers_nor_revises(
    asker: Membership, answerer: Membership, member: Membership, status: str
) -> None:
    # given an answer by a member who then lapses (or leaves), and another who lapses first
    question = published(asker)
    written = answer(answerer, question, "v1")
    set_status(answerer, status)
    set_status(member, status)
    # when / then
    with pytest.raises(ValidationError) as caught:
        answer(member, question)
    assert caught.value.messages == ["Only active members can answer."]
    with pytest.raises(ValidationError):
        services.answer_revise(author=answerer, answer=written, body="v2")
    written.refresh_from_db()
    assert (written.body, written.revision) == ("v1", 1)
    assert Answer.objects.count() == AnswerRevision.objects.count() == 1


# --- Discussion ---------------------------------------------------------------------------------


def test_a_reply_to_a_reply_joins_the_thread(
    asker: Membership, answerer: Membership, member: Membership
) -> None:
    # given an answer with a comment and a reply to it
    question = published(asker)
    written = answer(answerer, question)
    top = comment(member, written, "top")
    reply = comment(answerer, written, "reply", parent=top)
    # when someone replies to the reply
    reply_to_reply = comment(asker, written, "reply to reply", parent=reply)
    # then it hangs under the top comment: one level deep
    assert reply.parent == top
    assert reply_to_reply.parent == top
    page = selectors.question_page(viewer=member, question=question)
    [view] = page.answers
    assert [(t.comment.body, [r.body for r in t.replies]) for t in view.threads] == [
        ("top", ["reply", "reply to reply"])
    ]
    assert view.comment_count == 3


def test_a_reply_must_be_to_a_comment_on_the_same_answer(
    asker: Membership, answerer: Membership, member: Membership
) -> None:
    question = published(asker)
    one, other = answer(answerer, question), answer(member, question)
    elsewhere = comment(asker, other, "on the other answer")
    with pytest.raises(ValidationError) as caught:
        comment(asker, one, "misplaced", parent=elsewhere)
    assert caught.value.message_dict == {"parent": ["Reply to a comment on this answer."]}
    assert Comment.objects.count() == 1


def test_a_comment_tells_the_answers_author_but_not_when_they_comment(
    asker: Membership,
    answerer: Membership,
    member: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    question = published(asker)
    written = answer(answerer, question)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        said = comment(member, written, "Why five?")
        comment(answerer, written, "Because.", parent=said)
    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind, notification.comment) == (
        answerer.user,
        Kind.NEW_COMMENT,
        said,
    )
    assert [m.to for m in mailoutbox] == [[answerer.user.email]]
    assert mailoutbox[0].subject == "[Circle] Your answer got a comment"
    assert "plain commented on your answer" in mailoutbox[0].body


@pytest.mark.parametrize("status", ["lapsed", "pending"])
def test_only_active_members_comment(
    asker: Membership, answerer: Membership, member: Membership, status: str
) -> None:
    written = answer(answerer, published(asker))
    set_status(member, status)
    with pytest.raises(ValidationError) as caught:
        comment(member, written)
    assert caught.value.messages == ["Only active members can comment."]
    assert Comment.objects.count() == 0


def test_a_comment_can_be_edited_by_its_author_within_the_window(
    settings: Any, asker: Membership, answerer: Membership, member: Membership
) -> None:
    # given a five-minute window and a comment four minutes old
    settings.COMMENT_EDIT_WINDOW_MINUTES = 5
    said = age_comment(comment(member, answer(answerer, published(asker)), "frist"), 4)
    # when
    edited = services.comment_edit(author=member, comment=said, body="**first**")
    # then
    assert (edited.body, edited.body_html) == ("**first**", "<p><strong>first</strong></p>\n")
    assert edited.edited_at is not None


def test_a_comment_cannot_be_edited_after_the_window(
    settings: Any, asker: Membership, answerer: Membership, member: Membership
) -> None:
    settings.COMMENT_EDIT_WINDOW_MINUTES = 5
    said = age_comment(comment(member, answer(answerer, published(asker)), "frist"), 6)
    with pytest.raises(ValidationError) as caught:
        services.comment_edit(author=member, comment=said, body="first")
    assert caught.value.message_dict == {
        "body": ["Comments can be edited for 5 minutes after posting."]
    }
    said.refresh_from_db()
    assert (said.body, said.edited_at) == ("frist", None)


def test_only_the_author_edits_a_comment(
    asker: Membership, answerer: Membership, member: Membership, moderator: Membership
) -> None:
    said = comment(member, answer(answerer, published(asker)), "mine")
    for other in (answerer, moderator):
        with pytest.raises(PermissionDenied, match=r"Only the author can edit a comment\."):
            services.comment_edit(author=other, comment=said, body="yours")
    said.refresh_from_db()
    assert (said.body, said.edited_at) == ("mine", None)


def test_a_lapsed_author_cannot_edit_a_comment(
    asker: Membership, answerer: Membership, member: Membership
) -> None:
    said = comment(member, answer(answerer, published(asker)), "mine")
    set_status(member, "lapsed")
    with pytest.raises(PermissionDenied, match=r"Only active members can comment\."):
        services.comment_edit(author=member, comment=said, body="changed")
    said.refresh_from_db()
    assert (said.body, said.edited_at) == ("mine", None)


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
def test_removing_a_comment_needs_a_reason(
    asker: Membership,
    answerer: Membership,
    member: Membership,
    moderator: Membership,
    reason: Any,
) -> None:
    said = comment(member, answer(answerer, published(asker)), "spam")
    with pytest.raises(ValidationError) as caught:
        services.comment_remove(moderator=moderator, comment=said, reason=reason)
    assert list(caught.value.message_dict) == ["reason"]
    said.refresh_from_db()
    assert (said.removed_at, said.removed_by, said.removal_reason) == (None, None, "")


def test_a_removed_comment_keeps_its_text_and_the_reason(
    asker: Membership, answerer: Membership, member: Membership, moderator: Membership
) -> None:
    # given
    said = comment(member, answer(answerer, published(asker)), "buy my course")
    # when
    removed = services.comment_remove(moderator=moderator, comment=said, reason="Advertising")
    again = services.comment_remove(
        moderator=organiser_of(moderator.community), comment=said, reason="Twice"
    )
    # then: removed once, by the first moderator, for the first reason; the text kept for review
    said.refresh_from_db()
    assert (said.body, said.removal_reason, said.removed_by) == (
        "buy my course",
        "Advertising",
        moderator,
    )
    assert said.removed_at is not None
    assert removed.removed_at == again.removed_at == said.removed_at


def test_only_moderators_remove_comments(
    asker: Membership, answerer: Membership, member: Membership
) -> None:
    said = comment(member, answer(answerer, published(asker)), "fine")
    with pytest.raises(ValidationError) as caught:
        services.comment_remove(moderator=answerer, comment=said, reason="I dislike it")
    assert caught.value.messages == ["Only moderators and organisers can remove comments."]
    said.refresh_from_db()
    assert said.removed_at is None


def test_a_removed_comment_takes_no_replies(
    asker: Membership, answerer: Membership, member: Membership, moderator: Membership
) -> None:
    written = answer(answerer, published(asker))
    said = comment(member, written, "spam")
    services.comment_remove(moderator=moderator, comment=said, reason="Spam")
    said.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        comment(asker, written, "reply", parent=said)
    assert caught.value.message_dict == {"parent": ["That comment was removed."]}
    assert Comment.objects.count() == 1


def test_a_removed_comment_shows_the_reason_not_the_text(
    client: Client,
    asker: Membership,
    answerer: Membership,
    member: Membership,
    moderator: Membership,
) -> None:
    # given
    question = published(asker)
    said = comment(member, answer(answerer, question), "BUY-MY-COURSE")
    services.comment_remove(moderator=moderator, comment=said, reason="Advertising, sorry")
    # when
    client.force_login(asker.user)
    html = client.get(f"/c/circle/questions/{question.pk}/").content.decode()
    # then
    assert "Removed by a moderator: Advertising, sorry" in html
    assert "BUY-MY-COURSE" not in html


# --- Ratings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stars", [0, 6, -1, 3.5, "4", True, None, [4]])
def test_a_rating_is_a_whole_number_from_one_to_five(
    asker: Membership, answerer: Membership, member: Membership, stars: Any
) -> None:
    written = answer(answerer, published(asker))
    with pytest.raises(ValidationError) as caught:
        services.rating_set(rater=member, answer=written, stars=stars)
    assert caught.value.message_dict == {"stars": ["Give 1 to 5 stars."]}
    assert Rating.objects.count() == 0


def test_nobody_rates_their_own_answer(asker: Membership, answerer: Membership) -> None:
    written = answer(answerer, published(asker))
    with pytest.raises(ValidationError) as caught:
        services.rating_set(rater=answerer, answer=written, stars=5)
    assert caught.value.message_dict == {"stars": ["You cannot rate your own answer."]}
    assert Rating.objects.count() == 0


def test_a_rating_can_be_changed_and_stays_one_per_member(
    asker: Membership, answerer: Membership, member: Membership
) -> None:
    written = answer(answerer, published(asker))
    services.rating_set(rater=member, answer=written, stars=4)
    services.rating_set(rater=member, answer=written, stars=2)
    assert list(Rating.objects.values_list("answer", "rater", "stars")) == [
        (written.pk, member.pk, 2)
    ]


@pytest.mark.parametrize("who", ["lapsed", "candidate", "other_community"])
def test_only_active_members_of_the_community_rate(
    asker: Membership, answerer: Membership, member: Membership, who: str
) -> None:
    written = answer(answerer, published(asker))
    if who == "other_community":
        rater = add_member(make_community(slug="other"))
    else:
        rater = set_status(
            member, *{"lapsed": ("lapsed",), "candidate": ("active", "candidate")}[who]
        )
    with pytest.raises(ValidationError) as caught:
        services.rating_set(rater=rater, answer=written, stars=5)
    assert caught.value.messages == ["Only active members can rate answers."]
    assert Rating.objects.count() == 0


def test_the_average_and_count_show_on_the_answer(
    client: Client, community: Community, asker: Membership, answerer: Membership
) -> None:
    # given three ratings: 5, 4 and 4
    question = published(asker)
    written = answer(answerer, question)
    for stars in (5, 4, 4):
        services.rating_set(rater=add_member(community), answer=written, stars=stars)
    # when
    page = selectors.question_page(viewer=asker, question=question)
    client.force_login(asker.user)
    html = client.get(f"/c/circle/questions/{question.pk}/").content.decode()
    # then
    [view] = page.answers
    assert (round(view.answer.rating_avg, 4), view.answer.rating_count) == (4.3333, 3)
    assert '★ 4.3 <span class="muted">(3)</span>' in html


# --- Challenge questions -------------------------------------------------------------------------


def test_a_visitor_who_answers_a_challenge_becomes_a_candidate(
    community: Community, asker: Membership
) -> None:
    # given a challenge question and someone who is not in the community
    question = published(asker, challenge=True)
    visitor = UserFactory()
    # when
    written = services.challenge_answer_create(user=visitor, question=question, body="My take")
    # then
    candidate = Membership.objects.get(user=visitor, community=community)
    assert (candidate.role, candidate.status, candidate.joined_via) == (
        Membership.Role.CANDIDATE,
        Membership.Status.ACTIVE,
        Membership.JoinedVia.CHALLENGE,
    )
    assert written.author == candidate
    assert AnswerRevision.objects.filter(answer=written).count() == 1


def test_a_visitor_cannot_answer_a_question_that_is_not_a_challenge(
    community: Community, asker: Membership
) -> None:
    question = published(asker)
    visitor = UserFactory()
    memberships = Membership.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.challenge_answer_create(user=visitor, question=question, body="My take")
    assert caught.value.messages == ["Only challenge questions are open to visitors."]
    assert Membership.objects.count() == memberships
    assert Answer.objects.count() == 0


def test_a_visitor_answering_a_closed_challenge_does_not_become_a_candidate(
    community: Community, asker: Membership
) -> None:
    question = closed(published(asker, challenge=True))
    visitor = UserFactory()
    memberships = Membership.objects.count()
    with pytest.raises(ValidationError):
        services.challenge_answer_create(user=visitor, question=question, body="Late")
    assert Membership.objects.count() == memberships
    assert Answer.objects.count() == 0


def test_a_bad_challenge_answer_leaves_the_visitor_a_visitor(
    community: Community, asker: Membership
) -> None:
    question = published(asker, challenge=True)
    visitor = UserFactory()
    memberships = Membership.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.challenge_answer_create(user=visitor, question=question, body="  ")
    assert caught.value.message_dict == {"body": ["This field is required."]}
    assert Membership.objects.count() == memberships


def test_a_candidate_sees_only_challenge_questions_and_their_own_answers(
    community: Community, asker: Membership, answerer: Membership
) -> None:
    # given a challenge and an ordinary question, each with a member's answer
    challenge = published(asker, challenge=True, title="challenge")
    ordinary = published(asker, title="ordinary")
    answer(answerer, challenge, "member's answer")
    answer(answerer, ordinary, "member's other answer")
    mine = services.challenge_answer_create(
        user=UserFactory(), question=challenge, body="candidate's answer"
    )
    candidate = mine.author
    # when
    listed = selectors.questions_list(
        viewer=candidate, community=community, filters=selectors.QuestionFilters()
    )
    page = selectors.question_page(viewer=candidate, question=challenge)
    # then
    assert [q.title for q in listed] == ["challenge"]
    assert [v.answer.body for v in page.answers] == ["candidate's answer"]
    assert page.answers_hidden is True
    assert page.my_answer_id == mine.pk
    assert page.can_answer is False  # they answered; they revise instead


def test_a_candidate_answers_only_challenge_questions(
    community: Community, asker: Membership
) -> None:
    challenge = published(asker, challenge=True)
    ordinary = published(asker)
    candidate = services.challenge_answer_create(
        user=UserFactory(), question=challenge, body="mine"
    ).author
    with pytest.raises(ValidationError) as caught:
        answer(candidate, ordinary)
    assert caught.value.messages == ["Only active members can answer."]
    assert Answer.objects.filter(question=ordinary).count() == 0
    # but they revise their challenge answer while it is open
    revised = services.answer_revise(
        author=candidate, answer=Answer.objects.get(author=candidate), body="better"
    )
    assert revised.revision == 2


def test_visitors_read_a_challenge_question_without_signing_in(
    client: Client, asker: Membership, answerer: Membership
) -> None:
    # given a challenge question with a member's answer
    question = published(asker, challenge=True, title="Challenge: pricing a course")
    answer(answerer, question, "MEMBERS-ONLY-ANSWER")
    # when
    response = client.get(f"/c/circle/questions/{question.pk}/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Challenge: pricing a course" in html
    assert "MEMBERS-ONLY-ANSWER" not in html
    assert "Sign up to answer this challenge" in html


def test_a_question_that_stops_being_a_challenge_is_for_members_again(
    client: Client, asker: Membership, moderator: Membership
) -> None:
    question = published(asker, challenge=True)
    services.question_set_challenge(moderator=moderator, question=question, is_challenge=False)
    response = client.get(f"/c/circle/questions/{question.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Notifications -------------------------------------------------------------------------------


def test_the_four_kinds_of_notification_each_reach_the_right_person_by_email_once(
    community: Community,
    asker: Membership,
    answerer: Membership,
    member: Membership,
    moderator: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    # given
    question = brief(asker, title="Pricing")
    # when the four events happen
    with django_capture_on_commit_callbacks(execute=True):
        services.question_schedule(
            moderator=moderator, question=question, week=this_week(community)
        )
        question.refresh_from_db()
        services.invitations_create(moderator=moderator, question=question, invitees=[answerer.pk])
        written = answer(answerer, question)
        comment(member, written)
    # then
    assert sorted(Notification.objects.values_list("kind", "recipient__email")) == sorted(
        [
            (Kind.BRIEF_SCHEDULED, asker.user.email),
            (Kind.INVITED, answerer.user.email),
            (Kind.NEW_ANSWER, asker.user.email),
            (Kind.NEW_COMMENT, answerer.user.email),
        ]
    )
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted(
        [
            (asker.user.email, "[Circle] Your brief was scheduled"),
            (answerer.user.email, "[Circle] You are invited to answer a question"),
            (asker.user.email, "[Circle] Your question got an answer"),
            (answerer.user.email, "[Circle] Your answer got a comment"),
        ]
    )
    # and the job run again for each sends nothing more
    for pk in Notification.objects.values_list("pk", flat=True):
        assert notifications.email(pk) is False
    assert len(mailoutbox) == 4


def test_a_notification_email_waits_for_the_commit(
    asker: Membership, answerer: Membership, mailoutbox: list
) -> None:
    # on_commit callbacks are not run here: the answer's transaction never commits
    answer(answerer, published(asker))
    assert mailoutbox == []
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2


def test_the_email_job_tolerates_a_missing_notification(mailoutbox: list, db: None) -> None:
    assert notifications.email(10**9) is False
    assert mailoutbox == []


def test_notification_emails_name_people_by_handle_only(
    community: Community,
    asker: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    # given an answerer with a real name and company on their profile
    answerer = add_member(
        community, profile={"handle": "quiet-fox", "real_name": "王小明", "company": "秘密公司"}
    )
    question = published(asker)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        answer(answerer, question)
    # then
    [sent] = [m for m in mailoutbox if m.subject == "[Circle] Your question got an answer"]
    assert "quiet-fox answered your question" in sent.body
    assert "王小明" not in sent.body
    assert "秘密公司" not in sent.body


def test_notifications_are_marked_read(
    community: Community, asker: Membership, answerer: Membership, member: Membership
) -> None:
    # given three notifications for the asker, one for someone else
    question = published(asker)
    answer(answerer, question)
    answer(member, question)
    comment(asker, answer(add_member(community), question))
    mine = Notification.objects.filter(recipient=asker.user).order_by("pk")
    assert mine.count() == 4  # scheduled, and three answers
    others = Notification.objects.exclude(recipient=asker.user)
    assert others.count() == 1
    # when one is marked, then all
    first = mine.first()
    assert notifications.mark_read(user=asker.user, ids=[first.pk, others.get().pk]) == 1
    assert selectors.unread_count(user=asker.user) == 3
    assert notifications.mark_read(user=asker.user) == 3
    assert notifications.mark_read(user=asker.user) == 0
    # then
    assert selectors.unread_count(user=asker.user) == 0
    assert others.get().read_at is None


# --- Search --------------------------------------------------------------------------------------


@pytest.fixture
def searchable(community: Community, asker: Membership, answerer: Membership) -> dict[str, Any]:
    tag(community, Tag.Kind.SKILL, "交互设计")
    design = published(
        asker,
        title="如何设计新手引导？",
        background="我们的 App 七日留存很低。",
        needs=["交互设计"],
    )
    pricing = published(asker, title="Pricing a course", background="Cohorts or self-paced?")
    challenge = published(asker, title="挑战：定价", background="A challenge.", challenge=True)
    answer(answerer, design, "先做用户访谈，再画 onboarding 流程图。")
    answer(answerer, pricing, "Anchor the price against a **consultation** hour.")
    answer(answerer, challenge, "Charge per cohort; 分层定价.")
    return {"design": design, "pricing": pricing, "challenge": challenge}


def _found(viewer: Membership, text: str) -> list[str]:
    listed = selectors.questions_list(
        viewer=viewer, community=viewer.community, filters=selectors.QuestionFilters(q=text)
    )
    return sorted(q.title for q in listed)


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("新手引导", ["如何设计新手引导？"]),  # title, by its character pairs
        ("留存", ["如何设计新手引导？"]),  # background
        ("交互设计", ["如何设计新手引导？"]),  # need tag
        ("pricing", ["Pricing a course"]),  # case-folded
        ("cours", ["Pricing a course"]),  # a word by its beginning
        ("用户访谈", ["如何设计新手引导？"]),  # answer text, Chinese
        ("consultation", ["Pricing a course"]),  # answer text, English
        ("onboarding 流程", ["如何设计新手引导？"]),  # mixed
        ("定价", ["挑战：定价"]),
        ("分层", ["挑战：定价"]),
        ("cohort", ["Pricing a course", "挑战：定价"]),
        ("nothing-like-this", []),
        ("访谈 consultation", []),  # every word must match
    ],
)
def test_members_search_questions_and_answers_in_chinese_and_english(
    searchable: dict[str, Any], member: Membership, text: str, titles: list[str]
) -> None:
    assert _found(member, text) == titles


def test_candidates_find_challenge_questions_but_not_through_other_peoples_answers(
    searchable: dict[str, Any],
) -> None:
    # given a candidate (who answered the challenge)
    candidate = services.challenge_answer_create(
        user=UserFactory(), question=searchable["challenge"], body="按 cohort 收费"
    ).author
    # then the challenge's own words find it, another member's answer's words do not
    assert _found(candidate, "定价") == ["挑战：定价"]
    assert _found(candidate, "分层") == []
    assert _found(candidate, "用户访谈") == []
    assert _found(candidate, "pricing") == []
    assert _found(candidate, "consultation") == []


def test_a_revised_answer_is_found_by_its_new_words_only(
    searchable: dict[str, Any], answerer: Membership, member: Membership
) -> None:
    written = Answer.objects.get(question=searchable["pricing"])
    services.answer_revise(author=answerer, answer=written, body="Use a waitlist.")
    assert _found(member, "consultation") == []
    assert _found(member, "waitlist") == ["Pricing a course"]


def test_a_search_does_not_reach_another_communitys_answers(
    searchable: dict[str, Any], member: Membership
) -> None:
    other = make_community(slug="other")
    stranger = add_member(other)
    answer(add_member(other), published(stranger, title="Elsewhere"), "xylophone")
    assert _found(member, "xylophone") == []
    assert _found(stranger, "xylophone") == ["Elsewhere"]


def test_timestamps_do_not_move_when_nothing_changes(
    asker: Membership, answerer: Membership
) -> None:
    """A revision with the same text writes nothing (so `updated_at` says when it changed)."""
    written = answer(answerer, published(asker), "same")
    Answer.objects.filter(pk=written.pk).update(updated_at=timezone.now() - DAY)
    written.refresh_from_db()
    stamp = written.updated_at
    services.answer_revise(author=answerer, answer=written, body="same")
    written.refresh_from_db()
    assert written.updated_at == stamp


def test_opening_a_notification_marks_it_read_and_goes_to_what_it_is_about(
    client: Client, asker: Membership, answerer: Membership
) -> None:
    question = published(asker)
    written = answer(answerer, question)
    [note] = Notification.objects.filter(recipient=asker.user, answer=written)
    other = UserFactory()
    client.force_login(other)
    assert client.get(f"/notifications/{note.pk}/").status_code == 404  # not theirs
    client.force_login(asker.user)
    unread = Notification.objects.filter(recipient=asker.user, read_at__isnull=True).count()
    assert unread == 2  # the brief scheduled, the answer
    listed = client.get("/notifications/").content.decode()
    assert f'href="/notifications/{note.pk}/"' in listed
    # the time in the community's zone (Asia/Shanghai), not the server's (UTC)
    local = timezone.localtime(note.created_at, ZoneInfo(asker.community.time_zone))
    assert local.strftime("%Y-%m-%d %H:%M") in listed
    opened = client.get(f"/notifications/{note.pk}/")
    assert opened.status_code == 302
    assert opened["Location"] == written.get_absolute_url()
    note.refresh_from_db()
    assert note.read_at is not None
    # the unread count on the bar (outside the phone's ☰ menu), while any is unread
    assert 'class="bar-count"' in listed
    assert ">🔔 2</a>" in listed
    assert ">🔔 1</a>" in client.get("/notifications/").content.decode()
    client.post("/notifications/")  # mark all read
    assert 'class="bar-count"' not in client.get("/notifications/").content.decode()
