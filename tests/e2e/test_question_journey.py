"""The weekly question flow in the browser, four people in four browsers: a member writes a
brief and submits it; a moderator schedules it into this week from the briefs queue; another
member answers in Markdown and watches the live preview render before saving; a third member
comments on the answer and rates it. Each step is checked on the page and in the database.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from members import weeks
from members.models import Community, Membership, Tag
from questions.models import Answer, AnswerRevision, Comment, Notification, Question, Rating
from tests.factories import PASSWORD, UserFactory, add_member, make_community, tag

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
State = Question.State

TITLE = "新会员第一周流失严重，onboarding 邮件该怎么改？"
BACKGROUND = (
    "我们的付费社群每月新进 **120 人**，第一周就有三成不再打开。\n\n"
    "- 欢迎邮件只有一封\n- 没有新人任务"
)
WANTED = "一套第一周的触达节奏，以及衡量方法。"
ANSWER = """## 先定义“激活”

第一周的目标是让新人 **被回应一次**，而不是读完所有内容。

- 第 1 天：私信一个具体问题
- 第 3 天：介绍两位相近的老成员

<b onclick="alert(1)">raw html</b>"""
COMMENT = "“被回应一次”这个指标很实用，我们下周就试。"


@dataclass(frozen=True)
class Circle:
    community: Community
    asker: Membership
    moderator: Membership
    answerer: Membership
    rater: Membership


@pytest.fixture
def circle(midweek: datetime.datetime) -> Circle:
    """A community with a skills vocabulary, a moderator and three members."""
    community = make_community(slug="circle-qa", name="产品问答圈 · Q&A Circle")
    for name in ("用户研究", "Community operations", "文案"):
        tag(community, Tag.Kind.SKILL, name)

    def person(handle: str, role: str = Membership.Role.MEMBER) -> Membership:
        user = UserFactory(username=handle, email=f"{handle}@example.com")
        return add_member(community, user=user, role=role, profile={"handle": handle})

    return Circle(
        community=community,
        asker=person("lin"),
        moderator=person("mod", Membership.Role.MODERATOR),
        answerer=person("alice"),
        rater=person("bob"),
    )


def _signed_in(new_context: Callable[..., BrowserContext], base: str, email: str) -> Page:
    """A fresh browser (its own cookies) with ``email`` signed in."""
    page = new_context().new_page()
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    return page


def test_brief_is_scheduled_answered_with_preview_commented_and_rated(
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    circle: Circle,
    artifacts: Path,
    mailoutbox: list[Any],
) -> None:
    base = str(live_server)
    slug = circle.community.slug
    this_week = weeks.start_of(circle.community)

    # --- 1. A member writes a brief and submits it ---------------------------------------
    asker = _signed_in(new_context, base, "lin@example.com")
    asker.goto(f"{base}/c/{slug}/questions/new/")
    form = asker.locator("#brief-form")
    form.get_by_label("Title").fill(TITLE)
    form.get_by_label("Background").fill(BACKGROUND)
    form.get_by_label("What you want from the answers").fill(WANTED)
    form.locator("#id_needs").get_by_label("用户研究", exact=True).check()
    form.locator("#id_needs").get_by_label("Community operations", exact=True).check()
    asker.screenshot(path=artifacts / "q01-brief.png", full_page=True)
    form.get_by_role("button", name="Submit for scheduling").click()

    question = Question.objects.get(community=circle.community)
    expect(asker).to_have_url(f"{base}/c/{slug}/questions/{question.pk}/")
    expect(asker.locator("ul.messages li.success")).to_have_text(
        "Your brief is submitted. A moderator will schedule it."
    )
    expect(asker.locator("#question h1")).to_have_text(TITLE)
    expect(asker.locator("#question .badge.state-submitted")).to_have_text("Submitted")
    expect(asker.locator("#question .markdown strong")).to_have_text("120 人")
    expect(asker.locator("#question span.tag")).to_have_count(2)
    asker.screenshot(path=artifacts / "q02-brief-submitted.png", full_page=True)
    assert (question.state, question.asker_id, question.session_id) == (
        State.SUBMITTED,
        circle.asker.pk,
        None,
    )
    assert sorted(question.needs.values_list("name", flat=True)) == [
        "Community operations",
        "用户研究",
    ]
    assert "<strong>120 人</strong>" in question.background_html

    # The brief was written "now", past this week's lead time; date it back so it is in time.
    Question.objects.filter(pk=question.pk).update(
        submitted_at=weeks.brief_deadline(circle.community, this_week) - datetime.timedelta(days=1)
    )

    # --- 2. A moderator schedules it into this week from the briefs queue -------------------
    moderator = _signed_in(new_context, base, "mod@example.com")
    moderator.goto(f"{base}/c/{slug}/briefs/")
    card = moderator.locator(f".card.brief[data-question='{question.pk}']")
    expect(card.get_by_role("link", name=TITLE)).to_be_visible()
    card.locator("select[name=week]").select_option(weeks.label(this_week))
    moderator.screenshot(path=artifacts / "q03-briefs-queue.png", full_page=True)
    card.get_by_role("button", name="Schedule").click()

    expect(moderator).to_have_url(f"{base}/c/{slug}/briefs/")
    expect(moderator.locator("ul.messages li.success")).to_have_text(
        "Scheduled and published; the asker is notified."
    )
    expect(moderator.get_by_text("No briefs are waiting.")).to_be_visible()
    question.refresh_from_db()
    assert question.state == State.OPEN
    assert question.session is not None
    assert question.session.week == this_week
    assert question.scheduled_by_id == circle.moderator.pk
    assert list(
        Notification.objects.filter(question=question).values_list("recipient", "kind")
    ) == [(circle.asker.user_id, Notification.Kind.BRIEF_SCHEDULED)]
    assert [m.to for m in mailoutbox] == [["lin@example.com"]]
    moderator.goto(f"{base}/c/{slug}/week/")
    expect(moderator.locator("section.week").first.get_by_role("link", name=TITLE)).to_be_visible()
    moderator.screenshot(path=artifacts / "q04-scheduled-week.png", full_page=True)

    # --- 3. Another member answers in Markdown and sees the live preview ---------------------
    answerer = _signed_in(new_context, base, "alice@example.com")
    answerer.goto(f"{base}/c/{slug}/questions/{question.pk}/")
    answerer.get_by_role("link", name="Write an answer").click()
    expect(answerer).to_have_url(f"{base}/c/{slug}/questions/{question.pk}/answer/")
    preview = answerer.locator("#answer-preview")
    expect(preview).to_be_empty()
    answerer.get_by_label("Your answer").fill(ANSWER)

    # then: before anything is saved, the preview shows the rendered, sanitised Markdown
    expect(preview.locator("h2")).to_have_text("先定义“激活”")
    expect(preview.locator("strong")).to_have_text("被回应一次")
    expect(preview.locator("li")).to_have_count(2)
    expect(preview).to_contain_text('<b onclick="alert(1)">raw html</b>')  # shown as text
    expect(preview.locator("b, [onclick]")).to_have_count(0)
    assert not Answer.objects.exists()
    answerer.screenshot(path=artifacts / "q05-answer-preview.png", full_page=True)

    answerer.get_by_role("button", name="Save answer").click()
    answer = Answer.objects.get(question=question)
    expect(answerer).to_have_url(f"{base}/c/{slug}/questions/{question.pk}/#answer-{answer.pk}")
    expect(answerer.locator("ul.messages li.success")).to_have_text("Your answer is saved.")
    article = answerer.locator(f"#answer-{answer.pk}")
    expect(article.locator(".markdown h2")).to_have_text("先定义“激活”")
    expect(article.locator(".markdown strong")).to_have_text("被回应一次")
    expect(article.locator(".rating")).to_have_text("not rated yet")
    answerer.screenshot(path=artifacts / "q06-answer-saved.png", full_page=True)
    # (a browser sends a textarea's line breaks as CRLF; they are stored as sent)
    assert (answer.author_id, answer.body.replace("\r\n", "\n"), answer.revision) == (
        circle.answerer.pk,
        ANSWER,
        1,
    )
    assert list(AnswerRevision.objects.filter(answer=answer).values_list("number", "body")) == [
        (1, answer.body)
    ]
    assert Notification.objects.filter(
        recipient=circle.asker.user, kind=Notification.Kind.NEW_ANSWER, answer=answer
    ).exists()

    # --- 4. A third member comments on the answer and rates it -----------------------------
    rater = _signed_in(new_context, base, "bob@example.com")
    rater.goto(f"{base}/c/{slug}/questions/{question.pk}/")
    article = rater.locator(f"#answer-{answer.pk}")
    article.get_by_label("Add a comment").fill(COMMENT)
    article.get_by_role("button", name="Comment", exact=True).click()

    # (said under the answer without a page reload: static/js/actions.js)
    expect(article.locator(".action-status")).to_have_text("Your comment is posted.")
    expect(rater).to_have_url(f"{base}/c/{slug}/questions/{question.pk}/")
    expect(article.locator(".discussion h3")).to_have_text("1 comment")
    comment = Comment.objects.get(answer=answer)
    shown = article.locator(f"#comment-{comment.pk}")
    expect(shown.locator("strong")).to_have_text("bob")
    expect(shown.locator(".markdown")).to_have_text(COMMENT)
    rater.screenshot(path=artifacts / "q07-commented.png", full_page=True)
    assert (comment.author_id, comment.parent_id, comment.body) == (circle.rater.pk, None, COMMENT)
    assert Notification.objects.filter(
        recipient=circle.answerer.user, kind=Notification.Kind.NEW_COMMENT, comment=comment
    ).exists()

    article.get_by_label("4 stars").check()
    article.get_by_role("button", name="Rate").click()
    expect(article.locator(".action-status")).to_have_text("Thanks for rating.")
    expect(article.locator(".rating")).to_have_text("★ 4.0 (1)")
    expect(article.get_by_label("4 stars")).to_be_checked()
    rater.screenshot(path=artifacts / "q08-rated.png", full_page=True)
    assert list(Rating.objects.values_list("answer", "rater", "stars")) == [
        (answer.pk, circle.rater.pk, 4)
    ]

    # and everyone was told, by e-mail too: the asker twice, the answerer once
    assert sorted(m.to[0] for m in mailoutbox) == [
        "alice@example.com",
        "lin@example.com",
        "lin@example.com",
    ]
