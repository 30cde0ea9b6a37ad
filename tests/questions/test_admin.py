"""The moderators' admin at /manage/ (members.scoped_admin, questions.admin): who may open it,
what each moderator sees (their communities only), the actions that write through the services,
and that real names and companies never appear."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.admin import helpers
from django.test import Client
from django.utils import timezone

from members import services as member_services
from members import weeks
from members.models import Community, Membership
from members.scoped_admin import moderation_site
from questions import services
from questions.models import Comment, Notification, Question, WeekSession
from tests.factories import UserFactory, add_member, make_community, set_status
from tests.html import without_csrf_tokens

pytestmark = pytest.mark.django_db

QUESTIONS = "/manage/questions/question/"
COMMENTS = "/manage/questions/comment/"
SESSIONS = "/manage/questions/weeksession/"
SELECTED = helpers.ACTION_CHECKBOX_NAME

HIDDEN = {
    "asker": {"real_name": "Ada Askername 艾提问", "company": "Askcorp 提问公司"},
    "answerer": {"real_name": "Ben Answername 本回答", "company": "Replyworks 回答工坊"},
    "commenter": {"real_name": "Cai Commentname 蔡评论", "company": "Talkco 评论公司"},
    "moderator": {"real_name": "Mateo Shiftname 莫轮值", "company": "Rotaworks 轮值工坊"},
    "organiser": {"real_name": "Olga Foundername 欧创始", "company": "Rootcorp 根基集团"},
}


def this_week(community: Community) -> datetime.date:
    return weeks.start_of(community)


def next_week(community: Community) -> datetime.date:
    return this_week(community) + datetime.timedelta(days=7)


def brief(asker: Membership, title: str, *, days_ago: float = 10, submit: bool = True) -> Question:
    question = services.question_create(
        author=asker, title=title, background="背景 background", wanted="方法", submit=submit
    )
    if submit:
        Question.objects.filter(pk=question.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=days_ago)
        )
        question.refresh_from_db()
    return question


@dataclass
class Circle:
    """One community with a moderator, a queue of briefs and a discussion."""

    community: Community
    moderator: Membership
    asker: Membership
    submitted: Question
    late: Question
    draft: Question
    published: Question
    comment: Comment


def make_circle(community: Community, moderator: Membership, tag: str) -> Circle:
    asker = add_member(community, profile={"handle": f"{tag}-asker"})
    answerer = add_member(community, profile={"handle": f"{tag}-answerer"})
    commenter = add_member(community, profile={"handle": f"{tag}-commenter"})
    published = services.question_schedule(
        moderator=moderator,
        question=brief(asker, f"{tag} published brief"),
        week=next_week(community),
    )
    answer = services.answer_create(author=answerer, question=published, body="答案 answer")
    comment = services.comment_create(
        author=commenter, answer=answer, body=f"{tag} off-topic comment 跑题"
    )
    return Circle(
        community=community,
        moderator=moderator,
        asker=asker,
        submitted=brief(asker, f"{tag} waiting brief"),
        late=brief(asker, f"{tag} late brief", days_ago=0),
        draft=brief(asker, f"{tag} draft brief", submit=False),
        published=published,
        comment=comment,
    )


@pytest.fixture
def circle(community: Community, moderator: Membership) -> Circle:
    return make_circle(community, moderator, "circle")


@pytest.fixture
def other() -> Circle:
    community = make_community(slug="other", name="Other")
    moderator = add_member(community, role=Membership.Role.MODERATOR, profile={"handle": "omod"})
    return make_circle(community, moderator, "other")


def as_user(client: Client, membership: Membership) -> Client:
    client.force_login(membership.user)
    return client


def page(response: Any) -> str:
    return without_csrf_tokens(response.content)


# --- Who may open it -----------------------------------------------------------------------------


def test_moderator_opens_the_moderation_admin(client: Client, moderator: Membership) -> None:
    response = as_user(client, moderator).get("/manage/")

    assert response.status_code == 200
    html = page(response)
    assert QUESTIONS in html
    assert COMMENTS in html
    assert SESSIONS in html
    assert "/manage/members/" not in html  # nothing of the staff admin's models


def test_organiser_opens_the_moderation_admin(client: Client, organiser: Membership) -> None:
    assert as_user(client, organiser).get(QUESTIONS).status_code == 200


def test_visitor_is_sent_to_the_portal_sign_in(client: Client) -> None:
    response = client.get(QUESTIONS)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={QUESTIONS}"
    response = client.get(f"/manage/login/?next={QUESTIONS}")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={QUESTIONS}"


def test_admin_login_page_sends_a_moderator_on_and_refuses_an_outside_next(
    client: Client, moderator: Membership
) -> None:
    as_user(client, moderator)

    assert client.get(f"/manage/login/?next={QUESTIONS}")["Location"] == QUESTIONS
    assert client.get("/manage/login/?next=https://evil.example/")["Location"] == "/manage/"


@pytest.mark.parametrize("who", ["member", "lapsed moderator", "candidate", "staff"])
def test_others_are_refused(
    client: Client, community: Community, member: Membership, circle: Circle, who: str
) -> None:
    if who == "member":
        client.force_login(member.user)
    elif who == "lapsed moderator":
        client.force_login(set_status(circle.moderator, Membership.Status.LAPSED).user)
    elif who == "candidate":
        candidate = add_member(community, profile={"handle": "cand"})
        set_status(candidate, Membership.Status.ACTIVE, role=Membership.Role.CANDIDATE)
        client.force_login(candidate.user)
    else:  # platform staff without a role in any community: /admin/ is theirs, not this
        client.force_login(UserFactory(is_staff=True, is_superuser=True))

    for url in (
        "/manage/",
        QUESTIONS,
        f"{QUESTIONS}{circle.submitted.pk}/change/",
        COMMENTS,
        "/manage/login/",
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        QUESTIONS,
        {"action": "mark_challenge", SELECTED: [circle.submitted.pk], "index": "0"},
    )
    assert response.status_code == 403
    assert Question.objects.get(pk=circle.submitted.pk).is_challenge is False


def test_staff_admin_still_works(client: Client, community: Community) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert client.get("/admin/").status_code == 200
    response = client.get("/admin/members/community/")
    assert response.status_code == 200
    assert "Circle" in page(response)


def test_password_change_is_the_portals_and_no_generic_redirects(
    client: Client, circle: Circle
) -> None:
    as_user(client, circle.moderator)

    response = client.get("/manage/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/"
    # Django's "view on site" redirect resolves any object of any model: not offered here.
    assert client.get(f"/manage/r/1/{circle.submitted.pk}/").status_code == 404


def test_moderation_site_passes_the_admin_checks() -> None:
    assert moderation_site.check(None) == []


# --- Briefs to schedule --------------------------------------------------------------------------


def test_moderator_sees_only_their_communitys_submitted_briefs(
    client: Client, circle: Circle, other: Circle
) -> None:
    as_user(client, circle.moderator)

    html = page(client.get(QUESTIONS))
    assert "circle waiting brief" in html
    assert "circle late brief" in html
    assert "circle published brief" not in html  # scheduled: not in the default queue
    assert "circle draft brief" not in html  # drafts are their askers' alone
    assert "other waiting brief" not in html
    assert ">Other<" not in html  # no filter choice naming the other community
    assert "circle-asker" in html
    # The earliest possible week of a brief submitted ten days ago: this week.
    assert weeks.label(this_week(circle.community)) in html

    html = page(client.get(f"{QUESTIONS}?state=all"))
    assert "circle published brief" in html
    assert "circle draft brief" not in html
    assert "other waiting brief" not in html
    assert "other published brief" not in html


def test_brief_detail_is_read_only(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)
    url = f"{QUESTIONS}{circle.submitted.pk}/change/"

    response = client.get(url)
    assert response.status_code == 200
    html = page(response)
    assert "circle waiting brief" in html
    assert 'name="_save"' not in html
    assert f'href="{circle.submitted.get_absolute_url()}"' in html
    response = client.post(url, {"title": "Rewritten", "_save": "1"})
    assert response.status_code == 403
    assert Question.objects.get(pk=circle.submitted.pk).title == "circle waiting brief"
    assert client.get(f"{QUESTIONS}{circle.draft.pk}/change/").status_code == 404
    assert client.get(f"{QUESTIONS}add/").status_code == 403
    assert client.get(f"{QUESTIONS}{circle.submitted.pk}/delete/").status_code == 403
    assert client.get(f"{QUESTIONS}{circle.submitted.pk}/history/").status_code == 404


def test_schedule_action_asks_for_the_week_then_schedules(
    client: Client, circle: Circle, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    as_user(client, circle.moderator)
    week = next_week(circle.community)

    # given: the intermediate page, offering this week and the next eight
    response = client.post(
        QUESTIONS, {"action": "schedule_into_week", SELECTED: [circle.submitted.pk]}
    )
    assert response.status_code == 200
    html = page(response)
    assert "circle waiting brief" in html
    assert f'value="{weeks.label(week)}"' in html
    # Preselected: the first week the brief is in time for.
    first = weeks.label(weeks.first_week_for_brief(circle.community, circle.submitted.submitted_at))
    assert f'value="{first}" selected' in html
    assert (
        f'value="{weeks.label(this_week(circle.community) + datetime.timedelta(days=56))}"' in html
    )
    assert Question.objects.get(pk=circle.submitted.pk).state == Question.State.SUBMITTED

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            QUESTIONS,
            {
                "action": "schedule_into_week",
                SELECTED: [circle.submitted.pk],
                "week": weeks.label(week),
                "apply": "1",
            },
            follow=True,
        )

    # then
    assert response.status_code == 200
    assert f"is scheduled into {weeks.label(week)}" in page(response)
    question = Question.objects.select_related("session").get(pk=circle.submitted.pk)
    assert question.state == Question.State.SCHEDULED
    assert question.session is not None
    assert question.session.week == week
    assert question.scheduled_by == circle.moderator
    notes = Notification.objects.filter(recipient=circle.asker.user, question=question)
    assert [n.kind for n in notes] == [Notification.Kind.BRIEF_SCHEDULED]
    assert [m.to for m in mailoutbox] == [[circle.asker.user.email]]


def test_too_late_brief_is_reported_and_unchanged(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)
    week = this_week(circle.community)
    notifications = Notification.objects.count()

    response = client.post(
        QUESTIONS,
        {
            "action": "schedule_into_week",
            SELECTED: [circle.late.pk, circle.submitted.pk],
            "week": weeks.label(week),
            "apply": "1",
        },
        follow=True,
    )

    html = page(response)
    assert f"“circle late brief” was not scheduled: Too late for {weeks.label(week)}" in html
    first = weeks.first_week_for_brief(circle.community)
    assert f"The next possible week is {weeks.label(first)}" in html
    late = Question.objects.get(pk=circle.late.pk)
    assert late.state == Question.State.SUBMITTED
    assert late.session_id is None
    assert late.scheduled_at is None
    # The other selected brief was in time: it went in.
    assert f"“circle waiting brief” is scheduled into {weeks.label(week)}" in html
    assert Question.objects.get(pk=circle.submitted.pk).state == Question.State.OPEN
    assert Notification.objects.count() == notifications + 1


def test_schedule_action_needs_a_week_from_the_list(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)

    response = client.post(
        QUESTIONS,
        {
            "action": "schedule_into_week",
            SELECTED: [circle.submitted.pk],
            "week": "1999-W01",
            "apply": "1",
        },
    )

    assert response.status_code == 200  # the page again, with the error
    assert "Select a valid choice" in page(response)
    assert Question.objects.get(pk=circle.submitted.pk).state == Question.State.SUBMITTED


def test_already_scheduled_brief_is_reported(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)
    before = Question.objects.get(pk=circle.published.pk)

    response = client.post(
        f"{QUESTIONS}?state=all",
        {
            "action": "schedule_into_week",
            SELECTED: [circle.published.pk],
            "week": weeks.label(next_week(circle.community) + datetime.timedelta(days=7)),
            "apply": "1",
        },
        follow=True,
    )

    assert "Only submitted briefs can be scheduled." in page(response)
    after = Question.objects.get(pk=circle.published.pk)
    assert (after.state, after.session_id) == (before.state, before.session_id)


def test_mark_and_unmark_challenge(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)
    url = f"{QUESTIONS}?state=all"

    response = client.post(
        url, {"action": "mark_challenge", SELECTED: [circle.published.pk], "index": "0"}
    )
    assert response.status_code == 302
    assert Question.objects.get(pk=circle.published.pk).is_challenge is True

    client.post(url, {"action": "unmark_challenge", SELECTED: [circle.published.pk], "index": "0"})
    assert Question.objects.get(pk=circle.published.pk).is_challenge is False


# --- Comments to moderate ------------------------------------------------------------------------


def test_comments_list_shows_only_own_communitys(
    client: Client, circle: Circle, other: Circle
) -> None:
    html = page(as_user(client, circle.moderator).get(COMMENTS))

    assert "circle off-topic comment" in html
    assert "circle-commenter" in html
    assert "circle published brief" in html
    assert "other off-topic comment" not in html


def test_remove_comment_with_a_reason(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)

    # given: the intermediate page asking for the reason
    response = client.post(
        COMMENTS, {"action": "remove_with_reason", SELECTED: [circle.comment.pk]}
    )
    assert response.status_code == 200
    assert "circle off-topic comment" in page(response)
    assert 'name="reason"' in page(response)

    # a reason is required
    response = client.post(
        COMMENTS,
        {
            "action": "remove_with_reason",
            SELECTED: [circle.comment.pk],
            "reason": " ",
            "apply": "1",
        },
    )
    assert response.status_code == 200
    assert Comment.objects.get(pk=circle.comment.pk).removed_at is None

    # when
    response = client.post(
        COMMENTS,
        {
            "action": "remove_with_reason",
            SELECTED: [circle.comment.pk],
            "reason": "Off topic: please keep to the question.",
            "apply": "1",
        },
        follow=True,
    )

    # then
    assert "1 comment removed" in page(response)
    comment = Comment.objects.get(pk=circle.comment.pk)
    assert comment.removed_at is not None
    assert comment.removed_by == circle.moderator
    assert comment.removal_reason == "Off topic: please keep to the question."
    assert comment.body == "circle off-topic comment 跑题"  # kept for review
    html = page(client.get(f"{COMMENTS}?removed=yes"))
    assert "Off topic: please keep to the question." in html
    assert "circle off-topic comment" not in page(client.get(f"{COMMENTS}?removed=no"))
    detail = page(client.get(f"{COMMENTS}{comment.pk}/change/"))
    assert "Off topic: please keep to the question." in detail
    assert "mod" in detail  # removed by, by handle


def test_removing_again_keeps_the_first_reason(client: Client, circle: Circle) -> None:
    services.comment_remove(moderator=circle.moderator, comment=circle.comment, reason="Spam")
    as_user(client, circle.moderator)

    response = client.post(
        COMMENTS,
        {
            "action": "remove_with_reason",
            SELECTED: [circle.comment.pk],
            "reason": "Another reason",
            "apply": "1",
        },
        follow=True,
    )

    assert "already removed" in page(response)
    assert Comment.objects.get(pk=circle.comment.pk).removal_reason == "Spam"


def test_comment_admin_has_no_add_change_or_delete(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)
    url = f"{COMMENTS}{circle.comment.pk}/change/"

    assert client.get(url).status_code == 200
    assert client.post(url, {"body": "rewritten", "_save": "1"}).status_code == 403
    assert client.get(f"{COMMENTS}add/").status_code == 403
    assert client.get(f"{COMMENTS}{circle.comment.pk}/delete/").status_code == 403
    assert Comment.objects.get(pk=circle.comment.pk).body == "circle off-topic comment 跑题"
    html = page(client.get(COMMENTS))
    assert "delete_selected" not in html


# --- Weekly sessions -----------------------------------------------------------------------------


def test_write_a_sessions_announcement(client: Client, circle: Circle, other: Circle) -> None:
    as_user(client, circle.moderator)
    session = WeekSession.objects.get(community=circle.community)
    label = weeks.label(session.week)

    html = page(client.get(SESSIONS))
    assert label in html
    assert f"{SESSIONS}{session.pk}/change/" in html
    other_session = WeekSession.objects.get(community=other.community)
    assert f"{SESSIONS}{other_session.pk}/change/" not in html

    response = client.post(SESSIONS, {"action": "write_announcement", SELECTED: [session.pk]})
    assert response.status_code == 200
    assert 'name="announcement"' in page(response)
    response = client.post(
        SESSIONS,
        {
            "action": "write_announcement",
            SELECTED: [session.pk],
            "announcement": "This week: **onboarding**.",
            "apply": "1",
        },
        follow=True,
    )

    assert f"The announcement for {label} is saved." in page(response)
    session.refresh_from_db()
    assert session.announcement == "This week: **onboarding**."
    assert "<strong>onboarding</strong>" in session.announcement_html


# --- One community's moderator sees nothing of another -------------------------------------------


def test_other_communitys_moderator_sees_and_does_nothing(
    client: Client, circle: Circle, other: Circle
) -> None:
    as_user(client, other.moderator)
    session = WeekSession.objects.get(community=circle.community)

    # Lists: none of circle's rows.
    for url in (f"{QUESTIONS}?state=all", COMMENTS, SESSIONS):
        html = page(client.get(url))
        assert "circle" not in html.lower(), url
    # Object pages: not there.
    for url in (
        f"{QUESTIONS}{circle.submitted.pk}/change/",
        f"{QUESTIONS}{circle.published.pk}/change/",
        f"{COMMENTS}{circle.comment.pk}/change/",
        f"{SESSIONS}{session.pk}/change/",
    ):
        assert client.get(url).status_code == 404, url
    # Filtering by circle's community id gives nothing either.
    html = page(client.get(f"{QUESTIONS}?state=all&community={circle.community.pk}"))
    assert "circle" not in html.lower()

    # Actions on circle's ids are ignored: nothing changes.
    response = client.post(
        QUESTIONS,
        {
            "action": "schedule_into_week",
            SELECTED: [circle.submitted.pk],
            "week": weeks.label(next_week(circle.community)),
            "apply": "1",
        },
        follow=True,
    )
    assert "None of the selected rows belongs to a community you moderate." in page(response)
    client.post(
        f"{QUESTIONS}?state=all",
        {"action": "mark_challenge", SELECTED: [circle.published.pk], "index": "0"},
    )
    client.post(
        COMMENTS,
        {
            "action": "remove_with_reason",
            SELECTED: [circle.comment.pk],
            "reason": "Not yours",
            "apply": "1",
        },
    )
    client.post(
        SESSIONS,
        {
            "action": "write_announcement",
            SELECTED: [session.pk],
            "announcement": "Not yours",
            "apply": "1",
        },
    )
    submitted = Question.objects.get(pk=circle.submitted.pk)
    assert (submitted.state, submitted.session_id) == (Question.State.SUBMITTED, None)
    assert Question.objects.get(pk=circle.published.pk).is_challenge is False
    assert Comment.objects.get(pk=circle.comment.pk).removed_at is None
    assert WeekSession.objects.get(pk=session.pk).announcement == ""
    assert not Notification.objects.filter(question=submitted).exists()

    # A mixed selection acts on their own row only.
    client.post(
        COMMENTS,
        {
            "action": "remove_with_reason",
            SELECTED: [circle.comment.pk, other.comment.pk],
            "reason": "Off topic",
            "apply": "1",
        },
    )
    assert Comment.objects.get(pk=circle.comment.pk).removed_at is None
    assert Comment.objects.get(pk=other.comment.pk).removed_at is not None


def test_moderator_of_both_sees_both(client: Client, circle: Circle, other: Circle) -> None:
    add_member(
        other.community,
        user=circle.moderator.user,
        role=Membership.Role.MODERATOR,
        profile={"handle": "mod-too"},
    )

    html = page(as_user(client, circle.moderator).get(QUESTIONS))

    assert "circle waiting brief" in html
    assert "other waiting brief" in html
    html = page(client.get(f"{QUESTIONS}?community={other.community.pk}"))
    assert "other waiting brief" in html
    assert "circle waiting brief" not in html


def test_bad_input_is_refused_without_an_error_page(client: Client, circle: Circle) -> None:
    as_user(client, circle.moderator)

    response = client.post(
        QUESTIONS, {"action": "mark_challenge", SELECTED: ["1 OR 1=1"], "index": "0"}
    )
    assert response.status_code == 302
    for url in (
        f"{QUESTIONS}?week=not-a-date",
        f"{QUESTIONS}?state=bogus",
        f"{QUESTIONS}?community=x",
        f"{QUESTIONS}not-a-number/change/",
        f"{QUESTIONS}?_facets=True&state=all",
        f"{COMMENTS}?_facets=True",
        f"{SESSIONS}?_facets=True",
    ):
        assert client.get(url).status_code in (200, 302, 404), url
    # Filtering on a hidden profile field through the query string is refused.
    response = client.get(f"{QUESTIONS}?asker__profile__real_name__startswith=A")
    assert response.status_code == 400


# --- Privacy -------------------------------------------------------------------------------------


def test_growth_phase_real_names_never_appear(
    client: Client, community: Community, organiser: Membership, moderator: Membership
) -> None:
    # given: a growth-phase community where everyone involved has a real name and company
    member_services.profile_update(
        membership=organiser, data={"handle": "boss", **HIDDEN["organiser"]}
    )
    member_services.profile_update(membership=moderator, data=HIDDEN["moderator"])
    asker = add_member(community, profile={"handle": "asker", **HIDDEN["asker"]})
    answerer = add_member(community, profile={"handle": "answerer", **HIDDEN["answerer"]})
    commenter = add_member(community, profile={"handle": "commenter", **HIDDEN["commenter"]})
    member_services.community_enter_growth(actor=organiser, community=community)
    community.refresh_from_db()
    assert community.is_growth
    waiting = brief(asker, "A brief about onboarding")
    published = services.question_schedule(
        moderator=moderator, question=brief(asker, "A published brief"), week=next_week(community)
    )
    answer = services.answer_create(author=answerer, question=published, body="Answer")
    comment = services.comment_create(author=commenter, answer=answer, body="A comment")
    services.comment_remove(moderator=moderator, comment=comment, reason="Off topic")
    session = WeekSession.objects.get(community=community)

    for viewer in (moderator, organiser):  # organisers see hidden fields in the portal, not here
        as_user(client, viewer)
        responses = [
            client.get(url)
            for url in (
                "/manage/",
                "/manage/questions/",
                QUESTIONS,
                f"{QUESTIONS}?state=all",
                f"{QUESTIONS}{waiting.pk}/change/",
                f"{QUESTIONS}{published.pk}/change/",
                COMMENTS,
                f"{COMMENTS}?removed=yes",
                f"{COMMENTS}{comment.pk}/change/",
                SESSIONS,
                f"{SESSIONS}{session.pk}/change/",
            )
        ]
        responses += [
            client.post(QUESTIONS, {"action": "schedule_into_week", SELECTED: [waiting.pk]}),
            client.post(COMMENTS, {"action": "remove_with_reason", SELECTED: [comment.pk]}),
            client.post(SESSIONS, {"action": "write_announcement", SELECTED: [session.pk]}),
        ]
        for response in responses:
            assert response.status_code == 200
            html = page(response)
            for hidden in HIDDEN.values():
                for value in hidden.values():
                    for word in value.split():
                        assert word not in html, (viewer.role, word)
        listing = page(client.get(f"{QUESTIONS}?state=all"))
        assert "asker" in listing
        assert "commenter" in page(client.get(COMMENTS))


# --- Query budgets -------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 20])
def test_lists_run_a_fixed_number_of_queries(
    client: Client, circle: Circle, extra: int, django_assert_max_num_queries
) -> None:
    answer = circle.comment.answer
    for i in range(extra):
        asker = add_member(circle.community, profile={"handle": f"asker-{i}"})
        brief(asker, f"Bulk brief {i}")
        services.comment_create(author=asker, answer=answer, body=f"Bulk comment {i}")
    as_user(client, circle.moderator)

    for url in (
        "/manage/",
        QUESTIONS,
        f"{QUESTIONS}?state=all",
        f"{QUESTIONS}{circle.published.pk}/change/",
        COMMENTS,
        f"{COMMENTS}{circle.comment.pk}/change/",
        SESSIONS,
    ):
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200
