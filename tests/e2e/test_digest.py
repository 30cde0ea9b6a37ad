"""The weekly digest in the browser, two people in two browsers: the moderator of a closed week
finds its draft in the on-duty console, curates it (writes the summary, reorders the answers,
hides one, features one), previews the page, sends themselves a test e-mail and publishes it;
then a member reads it in the archive, follows it to the featured answer on its question,
unsubscribes with the one-click link and finds digest e-mails off in their settings. Each step
is checked on the page, in the database and in the e-mails sent.

Time: the builders travel with time-machine, which patches the clock of the whole process, so
the live server (a thread of this process) sees the same moved, still ticking clock as the test:
2026-W45 is built on its Monday, voted on its Friday and closed just after it ends; the browser
phases run on the Monday after. E-mail: the test settings send to Django's in-memory outbox
(``mailoutbox``), which the live server shares; Celery runs its tasks eagerly, so the e-mails
are in the outbox by the time a page answers.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import BrowserContext, Page, expect

from community import weekly
from members import weeks
from members.models import Community, Membership
from questions import services as question_services
from questions.digests import delivery
from questions.digests import services as digest_services
from questions.digests.models import Digest, DigestDelivery, DigestItem, DigestSubscription
from questions.models import Answer, Question
from rotation import services as rotation
from tests.factories import PASSWORD, UserFactory, add_member, make_community, organiser_of
from tests.questions.helpers import brief
from tests.rewards.weekly_helpers import AFTER_W45, FRIDAY_W45, MONDAY_W45, W45, vote

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEEK = datetime.timedelta(days=7)
LABEL = weeks.label(W45)  # 2026-W45
NAME = "周报圈 · Digest Circle"
SUMMARY = (
    "本周两个问题，**三条**值得一读的回答。\n\n"
    "This week: welcoming newcomers takes a buddy, and the weekly call fits in *twenty minutes*."
)
NOISE = "+1，同上。 Same here."
CHECKLIST = "写一份新人清单：第一天、第三天、第七天各做什么。 A checklist for days 1, 3, 7."


@dataclass(frozen=True)
class Closed:
    """2026-W45, closed: its moderator, a member who reads the digest, its two questions and
    five answers (``answers[0:3]`` to the first question, ranked by votes; ``answers[3:5]`` to
    the second), and the digest's draft."""

    community: Community
    moderator: Membership
    reader: Membership
    questions: list[Question]
    answers: list[Answer]
    digest: Digest


@pytest.fixture
def closed(time_machine: time_machine.TimeMachineFixture, mailoutbox: list[Any]) -> Closed:
    """A community whose roster has one member, ``wei``, fixed as 2026-W45's moderator; two
    questions of that week with five answers voted on; the week closed just after it ended,
    which drafts the digest (``digest.moderator`` is wei) and tells wei by e-mail. Then wei's
    shift of 2026-W46 is fixed (the beat's job when a week begins), so wei is on duty while
    the clock is left ticking just after 2026-W45."""
    time_machine.move_to(MONDAY_W45)
    community = make_community(slug="digest-e2e", name=NAME)

    def person(handle: str) -> Membership:
        user = UserFactory(username=handle, email=f"{handle}@example.com")
        return add_member(community, user=user, profile={"handle": handle})

    moderator, reader = person("wei"), person("lin")
    mei, alice, bo, chen, dan, eve, fay = (
        person(h) for h in ("mei", "alice", "bo", "chen", "dan", "eve", "fay")
    )
    rotation.roster_join(membership=moderator, now=MONDAY_W45 - datetime.timedelta(days=10))
    shift = rotation.shifts_fix_through(community=community, week=W45, now=MONDAY_W45)
    assert shift is not None
    assert shift.moderator_id == moderator.pk

    organiser = organiser_of(community)
    questions = []
    for asker, title in (
        (dan, "新人第一周怎么带？ · How do we welcome newcomers?"),
        (eve, "周会怎么开才不拖？ · How do we keep the weekly call short?"),
    ):
        question = brief(asker, title=title)
        question_services.question_schedule(moderator=organiser, question=question, week=W45)
        question.refresh_from_db()
        questions.append(question)
    first, second = questions
    answers = [
        question_services.answer_create(author=author, question=question, body=body)
        for author, question, body in (
            (mei, first, "Pair each newcomer with a **buddy** for the first week."),
            (alice, first, "A welcome call on day one, recorded for those who miss it."),
            (bo, first, CHECKLIST),
            (chen, second, "Twenty minutes, a fixed agenda, decisions written down."),
            (mei, second, NOISE),
        )
    ]

    time_machine.move_to(FRIDAY_W45)  # voting is open
    vote([dan, eve, fay], answers[0])
    vote([reader], answers[1])
    vote([dan, eve], answers[3])

    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    digest = Digest.objects.get(community=community, week=W45)
    assert digest.state == Digest.State.DRAFT
    assert digest.moderator_id == moderator.pk
    # ranked by votes within each question, in the questions' order
    assert list(digest.items.order_by("position").values_list("answer_id", "votes")) == [
        (answers[0].pk, 3),
        (answers[1].pk, 1),
        (answers[2].pk, 0),
        (answers[3].pk, 2),
        (answers[4].pk, 0),
    ]
    # the moderator was told the draft waits for them
    told = [m for m in mailoutbox if "digest" in m.subject]
    assert [(m.to, m.subject) for m in told] == [
        (["wei@example.com"], f"{NAME}: your digest of {LABEL} is ready to curate")
    ]
    assert f"/c/{community.slug}/digests/{LABEL}/curate/" in told[0].body

    rotation.shifts_fix_through(community=community, week=W45 + WEEK)
    moderator.refresh_from_db()
    assert moderator.on_duty_week == W45 + WEEK
    return Closed(community, moderator, reader, questions, answers, digest)


def _signed_in(new_context: Callable[..., BrowserContext], base: str, email: str) -> Page:
    """A fresh browser (its own cookies) with ``email`` signed in."""
    page = new_context().new_page()
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    return page


def _item(digest: Digest, answer: Answer) -> DigestItem:
    return DigestItem.objects.get(digest=digest, answer=answer)


def _digest_mails(outbox: list[Any]) -> list[Any]:
    """The digest's e-mails to members (not the test e-mail, not the draft notice)."""
    return [m for m in outbox if m.subject == f"{NAME}: the digest of {LABEL}"]


def test_moderator_curates_and_publishes_the_digest_and_a_member_reads_it_and_unsubscribes(
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    closed: Closed,
    artifacts: Path,
    mailoutbox: list[Any],
) -> None:
    base = str(live_server)
    slug = closed.community.slug
    digest = closed.digest
    a = closed.answers
    first_q, second_q = closed.questions
    curate_url = f"{base}/c/{slug}/digests/{LABEL}/curate/"
    detail_url = f"{base}/c/{slug}/digests/{LABEL}/"
    items = {answer.pk: _item(digest, answer) for answer in a}
    hidden, featured = a[4], a[2]  # the "+1" is noise; bo's checklist is the week's best
    mailoutbox.clear()  # the draft notice was checked in the fixture

    # --- 1. The week's moderator finds the draft in the on-duty console ------------------------
    moderator = _signed_in(new_context, base, "wei@example.com")
    moderator.goto(f"{base}/c/{slug}/duty/")
    waiting = moderator.locator("#duty-digest")
    expect(waiting).to_contain_text("Drafts of earlier weeks waiting to be published:")
    waiting.get_by_role("link", name=LABEL).click()
    expect(moderator).to_have_url(curate_url)
    expect(moderator.locator("h1")).to_have_text(f"Curate the digest of {LABEL}")
    expect(moderator.locator("#curate-state")).to_have_text(
        "A draft: members see nothing until you publish."
    )
    rows = moderator.locator("#curate-items tbody tr")
    expect(rows).to_have_count(5)
    for answer in a:
        row = moderator.locator(f"#item-{items[answer.pk].pk}")
        expect(row.locator(f"input[name=position_{items[answer.pk].pk}]")).to_have_value(
            str(items[answer.pk].position)
        )
        expect(row.locator(f"input[name=hidden_{items[answer.pk].pk}]")).not_to_be_checked()
        expect(row.locator(f"input[name=featured_{items[answer.pk].pk}]")).not_to_be_checked()

    # --- 2. They curate it: the summary, a new order, one answer hidden, one featured ---------
    moderator.get_by_label("Summary (Markdown)").fill(SUMMARY)
    # bo's checklist (0 votes, third) goes to the top of its question; mei and alice follow
    for answer, position in ((a[2], 1), (a[0], 2), (a[1], 3)):
        item = items[answer.pk]
        moderator.locator(f"#item-{item.pk} input[name=position_{item.pk}]").fill(str(position))
    moderator.locator(f"input[name=hidden_{items[hidden.pk].pk}]").check()
    moderator.locator(f"input[name=featured_{items[featured.pk].pk}]").check()
    moderator.locator("#curate-save").click()

    expect(moderator.locator("ul.messages li.success")).to_have_text("Saved.")
    expect(moderator).to_have_url(curate_url)
    expect(moderator.get_by_label("Summary (Markdown)")).to_have_value(SUMMARY)
    expect(moderator.locator(f"input[name=hidden_{items[hidden.pk].pk}]")).to_be_checked()
    expect(moderator.locator(f"input[name=featured_{items[featured.pk].pk}]")).to_be_checked()
    # the rows now follow the new order
    expect(rows.locator("td:nth-child(2) strong")).to_have_text(
        ["bo", "mei", "alice", "chen", "mei"]
    )
    moderator.screenshot(path=artifacts / "digest-01-curated.png", full_page=True)

    digest.refresh_from_db()
    assert digest.summary == SUMMARY
    assert "<strong>三条</strong>" in digest.summary_html
    assert digest.state == Digest.State.DRAFT
    assert {
        answer_id: (position, is_hidden)
        for answer_id, position, is_hidden in digest.items.values_list(
            "answer_id", "position", "hidden"
        )
    } == {
        a[2].pk: (1, False),
        a[0].pk: (2, False),
        a[1].pk: (3, False),
        a[3].pk: (4, False),
        a[4].pk: (5, True),
    }
    assert list(
        Answer.objects.filter(question__community=closed.community, featured=True).values_list(
            "pk", flat=True
        )
    ) == [featured.pk]

    # --- 3. The page preview: a draft banner, the summary, the new order, no hidden answer ----
    moderator.locator("#preview-page").click()
    expect(moderator).to_have_url(detail_url)
    expect(moderator.locator("h1")).to_have_text(f"Digest of {LABEL}")
    expect(moderator.locator("#digest-draft")).to_have_text(
        "Draft: a preview of what members will see"
    )
    expect(moderator.locator("#digest-meta")).to_contain_text("curated by wei")
    summary = moderator.locator("#digest-summary")
    expect(summary).to_contain_text("本周两个问题，三条值得一读的回答。")
    expect(summary.locator("strong")).to_have_text("三条")
    expect(summary.locator("em")).to_have_text("twenty minutes")
    expect(moderator.locator(f"#digest-q-{first_q.pk} .digest-answer p.small strong")).to_have_text(
        ["bo", "mei", "alice"]
    )
    expect(moderator.locator(f"#digest-a-{featured.pk} .badge.featured")).to_have_text("Featured")
    expect(moderator.locator(".badge.featured")).to_have_count(1)
    expect(
        moderator.locator(f"#digest-q-{second_q.pk} .digest-answer p.small strong")
    ).to_have_text(["chen"])
    expect(moderator.locator(f"#digest-a-{hidden.pk}")).to_have_count(0)
    expect(moderator.get_by_text(NOISE)).to_have_count(0)
    moderator.screenshot(path=artifacts / "digest-02-preview.png", full_page=True)

    # the e-mail preview: the same content, as members will receive it
    moderator.get_by_role("link", name="Curate", exact=True).click()
    expect(moderator).to_have_url(curate_url)
    moderator.locator("#preview-email").click()
    expect(moderator).to_have_url(f"{base}/c/{slug}/digests/{LABEL}/email/")
    expect(moderator.locator("h1")).to_have_text(f"{NAME}: the digest of {LABEL}")
    expect(moderator.locator(f"#digest-a-{featured.pk} .badge.featured")).to_have_text("Featured")
    expect(moderator.locator(f"#digest-a-{hidden.pk}")).to_have_count(0)
    expect(moderator.get_by_role("link", name="Stop these e-mails")).to_be_visible()
    moderator.goto(curate_url)
    expect(moderator.locator("h1")).to_have_text(f"Curate the digest of {LABEL}")

    # --- 4. A test e-mail to the moderator alone ----------------------------------------------
    moderator.locator("#send-test").click()
    expect(moderator.locator("ul.messages li.success")).to_have_text(
        "A test e-mail is on its way to wei@example.com."
    )
    expect(moderator).to_have_url(curate_url)
    assert len(mailoutbox) == 1
    test_mail = mailoutbox[0]
    assert test_mail.subject == f"[Test] {NAME}: the digest of {LABEL}"
    assert test_mail.to == ["wei@example.com"]
    assert "本周两个问题，**三条**值得一读的回答。" in test_mail.body
    assert NOISE not in test_mail.body
    assert test_mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, mimetype = test_mail.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>三条</strong>" in html
    assert not DigestDelivery.objects.filter(digest=digest).exists()
    digest.refresh_from_db()
    assert digest.state == Digest.State.DRAFT

    # --- 5. Publish: the published digest's page, and one e-mail per member --------------------
    moderator.locator("#publish").click()
    expect(moderator).to_have_url(detail_url)
    expect(moderator.locator("ul.messages li.success")).to_have_text(
        "Published. The e-mails to members are being sent."
    )
    expect(moderator.locator("#digest-meta")).to_contain_text(
        f"Published {AFTER_W45.date():%Y-%m-%d}"
    )
    expect(moderator.locator("#digest-draft")).to_have_count(0)
    expect(moderator.locator("#digest-summary strong")).to_have_text("三条")
    moderator.screenshot(path=artifacts / "digest-03-published.png", full_page=True)

    digest.refresh_from_db()
    assert digest.state == Digest.State.PUBLISHED
    assert digest.published_by_id == closed.moderator.pk
    assert digest.published_at is not None
    readers = Membership.objects.filter(community=closed.community).count()  # 9 + organiser
    assert readers == 10
    # Celery runs eagerly: the deliveries were queued and sent before the page answered
    assert (
        sorted(DigestDelivery.objects.filter(digest=digest).values_list("state", flat=True))
        == [DigestDelivery.State.SENT] * readers
    )
    sent = _digest_mails(mailoutbox)
    assert len(sent) == readers
    to_reader = [m for m in sent if m.to == ["lin@example.com"]]
    assert len(to_reader) == 1
    assert "/digests/unsubscribe/" in to_reader[0].extra_headers["List-Unsubscribe"]
    assert NOISE not in to_reader[0].body

    # the curation page now says it is published and offers no second publish
    moderator.goto(curate_url)
    expect(moderator.locator("#curate-state")).to_contain_text("Published")
    expect(moderator.locator("#publish")).to_have_count(0)
    expect(moderator.locator("#deliveries")).to_contain_text(
        f"{readers} sent, 0 queued, 0 sending, 0 failed."
    )

    # --- 6. A member reads it in the archive ---------------------------------------------------
    reader = _signed_in(new_context, base, "lin@example.com")
    reader.goto(f"{base}/c/{slug}/digests/")
    expect(reader.locator("h1")).to_have_text("Weekly digests")
    row = reader.locator(f"#digest-{LABEL}")
    expect(reader.locator("#digests tbody tr")).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("Published")
    expect(row.locator("td").nth(2)).to_have_text(f"{AFTER_W45.date():%Y-%m-%d}")
    expect(row.get_by_role("link", name="Curate")).to_have_count(0)  # not theirs to curate
    reader.screenshot(path=artifacts / "digest-04-archive.png", full_page=True)
    row.get_by_role("link", name=LABEL).click()
    expect(reader).to_have_url(detail_url)
    expect(reader.locator("#digest-summary strong")).to_have_text("三条")
    expect(reader.locator("#digest-summary")).to_contain_text("welcoming newcomers takes a buddy")
    expect(reader.locator(f"#digest-a-{featured.pk} .badge.featured")).to_have_text("Featured")
    expect(reader.locator(f"#digest-a-{hidden.pk}")).to_have_count(0)
    expect(reader.get_by_role("link", name="Curate", exact=True)).to_have_count(0)
    reader.screenshot(path=artifacts / "digest-05-member-reads.png", full_page=True)

    # --- 7. …and follows it to the featured answer on its question ----------------------------
    reader.locator(f"#digest-a-{featured.pk}").get_by_role(
        "link", name="Read the whole answer"
    ).click()
    reader.wait_for_url(f"{base}/c/{slug}/questions/{first_q.pk}/#answer-{featured.pk}")
    expect(reader.locator("h1")).to_contain_text(first_q.title)
    on_question = reader.locator(f"#answer-{featured.pk}")
    expect(on_question.locator(".badge.featured")).to_have_text("Featured")
    expect(reader.locator("article.answer")).to_have_count(3)
    expect(reader.locator("article.answer .badge.featured")).to_have_count(1)
    reader.screenshot(path=artifacts / "digest-06-featured-answer.png", full_page=True)

    # --- 8. The one-click unsubscribe link ----------------------------------------------------
    settings_url = f"{base}/c/{slug}/digests/settings/"
    emails_box = reader.get_by_label("E-mail me each week's digest")
    reader.goto(settings_url)
    expect(emails_box).to_be_checked()  # on until they say otherwise

    token = digest_services.unsubscribe_token(closed.reader.pk)
    reader.goto(f"{base}/digests/unsubscribe/{token}/")
    expect(reader.locator("h1")).to_have_text("Unsubscribe from digest e-mails")
    expect(reader.get_by_text(f"Stop the weekly digest e-mails from {NAME}?")).to_be_visible()
    reader.get_by_role("button", name="Unsubscribe").click()
    expect(reader.locator("#unsubscribed")).to_have_text(
        f"Done: you will get no more digest e-mails from {NAME}. "
        "You can turn them on again in your digest settings."
    )
    expect(reader.locator("#unsubscribe")).to_have_count(0)
    reader.screenshot(path=artifacts / "digest-07-unsubscribed.png", full_page=True)
    assert DigestSubscription.objects.get(membership=closed.reader).emails is False

    # --- 9. Their digest settings say so -------------------------------------------------------
    reader.goto(settings_url)
    expect(reader.locator("h1")).to_have_text("Digest e-mails and feed")
    expect(emails_box).not_to_be_checked()
    reader.screenshot(path=artifacts / "digest-08-settings.png", full_page=True)
    # and the next digest would not be sent to them
    assert closed.reader.pk not in {pk for pk, _email in delivery.recipients(digest)}
