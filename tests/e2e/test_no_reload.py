"""Voting, rating and commenting without a page reload (static/js/actions.js), on a phone and
on a desktop, in English and in 简体中文: each result shows next to the answer acted on, the
page is the same page (a marker set on ``window`` before the action is still there after the
result shows), and the database changed. A comment the server refuses comes back in its place
with the reason and what was typed. Without JavaScript the same forms post and reload.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from members.models import Membership
from questions.models import Answer, Comment, Rating, Vote
from tests.e2e.conftest import DESKTOP, PHONE, SignedIn
from tests.rewards.weekly_helpers import FRIDAY_W45, funded_community, questions_with_answers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


TEXT = {
    "en": {
        "vote": "Vote for this answer",
        "withdraw": "Withdraw vote",
        "cast": "Your vote is cast.",
        "withdrawn": "Vote withdrawn.",
        "rate": "Rate",
        "rated": "Thanks for rating.",
        "comment": "Comment",
        "reply": "Reply",
        "save": "Save",
        "edit": "Edit",
        "left": "You have 2 votes left this week.",
        "too_long": "at most 5000 characters",
    },
    "zh-hans": {
        "vote": "为此回答投票",
        "withdraw": "撤回投票",
        "cast": "投票成功。",
        "withdrawn": "已撤回投票。",
        "rate": "评分",
        "rated": "感谢你的评分。",
        "comment": "评论",
        "reply": "回复",
        "save": "保存",
        "edit": "编辑",
        "left": "你本周还剩 2 票。",
        "too_long": "5000",
    },
}


@dataclass(frozen=True)
class Ballot:
    voter: Membership
    answers: list[Answer]
    question_url: str


@pytest.fixture
def ballot(time_machine: time_machine.TimeMachineFixture) -> Ballot:
    """A week whose voting is open (Friday of 2026-W45): one question, two answers."""
    community, people = funded_community(time_machine, members=8, slug="noreload")
    week = questions_with_answers(community, people, questions=1, answers=2)
    time_machine.move_to(FRIDAY_W45, tick=True)
    return Ballot(
        voter=people[0], answers=week.answers, question_url=week.questions[0].get_absolute_url()
    )


def _same_page(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


@pytest.mark.parametrize(
    ("viewport", "language"),
    [
        pytest.param(PHONE, "en", id="phone-en"),
        pytest.param(PHONE, "zh-hans", id="phone-zh"),
        pytest.param(DESKTOP, "en", id="desktop-en"),
        pytest.param(DESKTOP, "zh-hans", id="desktop-zh"),
    ],
)
def test_voting_rating_and_commenting_without_a_page_reload(
    signed_in: SignedIn,
    live_server: Any,
    ballot: Ballot,
    artifacts: Path,
    viewport: dict[str, int],
    language: str,
) -> None:
    t = TEXT[language]
    name = f"noreload-{viewport['width']}-{language}"
    first = ballot.answers[0]
    page = signed_in(ballot.voter.user, viewport=viewport, language=language)
    page.goto(f"{live_server.url}{ballot.question_url}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    article = page.locator(f"#answer-{first.pk}")
    page.evaluate("window.__marker = 1")

    # --- a vote: the article says so, the note counts the votes left ------------------------
    article.get_by_role("button", name=t["vote"]).click()
    status = page.locator(f"#answer-{first.pk} .action-status")
    expect(status).to_contain_text(t["cast"])
    expect(status).to_be_focused()
    expect(page.locator("#voting-note")).to_contain_text(t["left"])
    expect(article.get_by_role("button", name=t["withdraw"])).to_be_visible()
    _same_page(page)
    assert list(Vote.objects.values_list("voter", "answer")) == [(ballot.voter.pk, first.pk)]
    page.screenshot(path=artifacts / f"{name}-1-voted.png", full_page=True)

    # --- a rating: four stars chosen, the card shows the average ----------------------------
    stars = article.locator("fieldset.stars label.star")
    expect(stars).to_have_count(5)
    stars.nth(3).click()
    expect(article.locator("input[name=stars][value='4']")).to_be_checked()
    # the keyboard moves between the stars, as between any radio buttons
    page.keyboard.press("ArrowLeft")
    expect(article.locator("input[name=stars][value='3']")).to_be_checked()
    page.keyboard.press("ArrowRight")
    expect(article.locator("input[name=stars][value='4']")).to_be_focused()
    expect(article.locator("input[name=stars][value='4']")).to_be_checked()
    article.get_by_role("button", name=t["rate"], exact=True).click()
    expect(status).to_contain_text(t["rated"])
    expect(article.locator(".rating")).to_contain_text("4.0")
    expect(article.locator("input[name=stars][value='4']")).to_be_checked()
    _same_page(page)
    assert list(Rating.objects.values_list("rater", "answer", "stars")) == [
        (ballot.voter.pk, first.pk, 4)
    ]
    page.screenshot(path=artifacts / f"{name}-2-rated.png", full_page=True)

    # --- a comment: it shows under the answer, the form is empty again -----------------------
    said = "很有用的回答 — useful, thanks."
    article.locator(f"#comment-form-{first.pk} textarea").fill(said)
    article.locator(f"#comment-form-{first.pk}").get_by_role("button", name=t["comment"]).click()
    expect(article.locator(".comment .markdown")).to_have_text(said)
    expect(article.locator(f"#comment-form-{first.pk} textarea")).to_have_value("")
    _same_page(page)
    comment = Comment.objects.get()
    assert (comment.author_id, comment.answer_id, comment.body) == (
        ballot.voter.pk,
        first.pk,
        said,
    )

    # --- Edit and Reply are buttons that open their form ------------------------------------
    edit = article.locator(f"[data-toggle='edit-form-{comment.pk}']")
    expect(edit).to_have_text(t["edit"])
    expect(edit).to_have_attribute("aria-expanded", "false")
    expect(page.locator(f"#edit-form-{comment.pk}")).to_be_hidden()
    edit.click()
    expect(edit).to_have_attribute("aria-expanded", "true")
    edited = page.locator(f"#edit-form-{comment.pk} textarea")
    expect(edited).to_be_focused()
    edited.fill("改过了 — edited.")
    page.locator(f"#edit-form-{comment.pk}").get_by_role("button", name=t["save"]).click()
    expect(article.locator(f"#comment-{comment.pk} .markdown")).to_have_text("改过了 — edited.")
    _same_page(page)
    comment.refresh_from_db()
    assert comment.body == "改过了 — edited."
    assert comment.edited_at is not None

    reply = article.locator(f"[data-toggle='reply-form-{comment.pk}']")
    reply.click()
    page.locator(f"#reply-form-{comment.pk} textarea").fill("回复一句。")
    page.locator(f"#reply-form-{comment.pk}").get_by_role("button", name=t["reply"]).click()
    expect(article.locator(".replies .comment .markdown")).to_have_text("回复一句。")
    _same_page(page)
    assert Comment.objects.get(parent=comment).body == "回复一句。"
    page.screenshot(path=artifacts / f"{name}-3-commented.png", full_page=True)

    # --- a comment refused (too long, from a browser that did not stop it): it comes back in
    # its place with the reason, what was typed is kept, nothing is saved ---------------------
    box = article.locator(f"#comment-form-{first.pk} textarea")
    box.evaluate("el => el.removeAttribute('maxlength')")
    too_long = "长" * 5001
    box.fill(too_long)
    article.locator(f"#comment-form-{first.pk}").get_by_role("button", name=t["comment"]).click()
    refused = page.locator(f"#comment-form-{first.pk}")
    expect(refused.locator(".errorlist")).to_contain_text(t["too_long"])
    expect(refused.locator("textarea")).to_have_value(too_long)
    expect(refused.locator("textarea")).to_be_focused()
    _same_page(page)
    assert Comment.objects.count() == 2
    page.screenshot(path=artifacts / f"{name}-4-refused.png", full_page=True)

    # --- the vote withdrawn -----------------------------------------------------------------
    article = page.locator(f"#answer-{first.pk}")
    article.get_by_role("button", name=t["withdraw"]).click()
    expect(page.locator(f"#answer-{first.pk} .action-status")).to_contain_text(t["withdrawn"])
    expect(article.get_by_role("button", name=t["vote"])).to_be_visible()
    _same_page(page)
    assert not Vote.objects.exists()
    page.screenshot(path=artifacts / f"{name}-5-withdrawn.png", full_page=True)


def test_on_the_ballot_a_vote_updates_the_row_and_the_count_in_place(
    signed_in: SignedIn,
    live_server: Any,
    ballot: Ballot,
    artifacts: Path,
) -> None:
    page = signed_in(ballot.voter.user, viewport=PHONE, language="en")
    page.goto(f"{live_server.url}/c/noreload/ballot/")
    expect(page.locator("#votes-left")).to_contain_text("3 votes left")
    page.evaluate("window.__marker = 1")
    second = ballot.answers[1]
    row = page.locator(f"#ballot-answer-{second.pk}")
    row.get_by_role("button", name="Vote for this answer").click()
    expect(row.locator(".action-status")).to_have_text(
        "Your vote is cast. You have 2 votes left this week."
    )
    expect(row.locator(".badge.voted")).to_be_visible()
    expect(page.locator("#votes-left")).to_contain_text("2 votes left")
    _same_page(page)
    assert list(Vote.objects.values_list("voter", "answer")) == [(ballot.voter.pk, second.pk)]
    page.screenshot(path=artifacts / "noreload-ballot-390-en.png", full_page=True)


def test_without_javascript_the_same_forms_post_and_reload(
    signed_in: SignedIn,
    live_server: Any,
    ballot: Ballot,
    artifacts: Path,
) -> None:
    page = signed_in(ballot.voter.user, viewport=DESKTOP, language="en", javascript=False)
    page.goto(f"{live_server.url}{ballot.question_url}")
    first = ballot.answers[0]
    article = page.locator(f"#answer-{first.pk}")
    article.get_by_role("button", name="Vote for this answer").click()
    expect(page.locator("ul.messages li.success")).to_have_text(
        "Your vote is cast. You have 2 votes left this week."
    )
    assert Vote.objects.filter(voter=ballot.voter, answer=first).exists()
    # the stars are radio buttons still; the comment's forms are shown, their buttons not
    article.locator("fieldset.stars label.star").nth(2).click()
    article.get_by_role("button", name="Rate", exact=True).click()
    expect(page.locator("ul.messages li.success")).to_have_text("Thanks for rating.")
    assert Rating.objects.get().stars == 3
    article.locator(f"#comment-form-{first.pk} textarea").fill("Without scripts.")
    article.locator(f"#comment-form-{first.pk}").get_by_role("button", name="Comment").click()
    comment = Comment.objects.get()
    expect(page.locator(f"#edit-form-{comment.pk}")).to_be_visible()
    expect(page.locator(f"[data-toggle='edit-form-{comment.pk}']")).to_be_hidden()
    page.screenshot(path=artifacts / "noreload-nojs-1366-en.png", full_page=True)
