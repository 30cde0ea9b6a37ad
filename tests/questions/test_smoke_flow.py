"""The weekly flow end to end through the portal: brief → schedule → answer → comment → rate."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from members import weeks
from members.models import Tag
from questions.models import Answer, Comment, Notification, Question, Rating
from tests.factories import add_member, make_community, organiser_of, tag

pytestmark = pytest.mark.django_db


def test_brief_to_rating(client: Client, django_capture_on_commit_callbacks, mailoutbox) -> None:
    community = make_community(slug="flow")
    tag(community, Tag.Kind.SKILL, "交互设计")
    asker = add_member(community, profile={"handle": "asker"})
    answerer = add_member(community, profile={"handle": "answerer", "skills": ["交互设计"]})
    rater = add_member(community, profile={"handle": "rater"})
    moderator = organiser_of(community)

    client.force_login(asker.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/c/flow/questions/new/",
            {
                "title": "如何设计新手引导？",
                "background": "我们的 **App** 留存低。",
                "wanted": "方法和例子",
                "needs": ["交互设计"],
                "submit": "1",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    question = Question.objects.get()
    assert question.state == Question.State.SUBMITTED
    Question.objects.filter(pk=question.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=10)
    )

    client.force_login(moderator.user)
    this_week = weeks.start_of(community)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/c/flow/questions/{question.pk}/schedule/", {"week": weeks.label(this_week)}
        )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.state == Question.State.OPEN
    assert Notification.objects.filter(recipient=asker.user, kind="brief_scheduled").count() == 1

    client.force_login(answerer.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/c/flow/questions/{question.pk}/answer/",
            {"body": "# 方法\n\n<script>alert(1)</script> 先做 *用户访谈*。"},
        )
    assert response.status_code == 302
    answer = Answer.objects.get()
    assert "<script>" not in answer.body_html
    assert "<em>用户访谈</em>" in answer.body_html

    client.force_login(rater.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/c/flow/answers/{answer.pk}/comments/", {"body": "好答案"})
    client.post(f"/c/flow/answers/{answer.pk}/rate/", {"stars": "4"})
    assert Comment.objects.get().author == rater
    assert Rating.objects.get().stars == 4

    response = client.get(f"/c/flow/questions/{question.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "好答案" in html
    assert "★ 4.0" in html
    assert {m.to[0] for m in mailoutbox} == {asker.user.email, answerer.user.email}
    for url in (
        "/c/flow/week/",
        "/c/flow/questions/",
        "/c/flow/questions/mine/",
        "/notifications/",
        f"/c/flow/answers/{answer.pk}/revisions/",
        "/c/flow/questions/?q=设计",
    ):
        assert client.get(url).status_code == 200, url
