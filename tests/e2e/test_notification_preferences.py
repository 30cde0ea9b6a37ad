"""Per-kind notification preferences in the browser (issue 12), on a phone's 390x844 in English
and a laptop's 1366x768 in 简体中文: a member opens the settings from the notifications list,
turns answers off, invitations to the portal only and their digest e-mails off, and saves; then
an answer and an invitation happen. The answer is neither listed nor e-mailed, the invitation
is listed but not e-mailed, and the digest subscription is off.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from members.models import Community, Membership
from questions import notifications
from questions import services as question_services
from questions.models import DigestSubscription, Notification, NotificationPreference, Question
from tests.e2e.conftest import DESKTOP, OVERFLOW, PHONE, SignedIn
from tests.factories import UserFactory, add_member, make_community
from tests.questions.helpers import published

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Kind = Notification.Kind
Channel = NotificationPreference.Channel


@dataclass(frozen=True)
class Circle:
    community: Community
    lin: Membership
    alice: Membership
    moderator: Membership
    lins_question: Question
    alices_question: Question


@pytest.fixture
def circle(midweek: datetime.datetime) -> Circle:
    community = make_community(slug="circle-np", name="产品问答圈 · Q&A Circle")

    def person(handle: str, role: str = Membership.Role.MEMBER) -> Membership:
        user = UserFactory(username=handle, email=f"{handle}@example.com")
        return add_member(community, user=user, role=role, profile={"handle": handle})

    lin, alice = person("lin"), person("alice")
    moderator = person("mod", Membership.Role.MODERATOR)
    return Circle(
        community=community,
        lin=lin,
        alice=alice,
        moderator=moderator,
        lins_question=published(lin, title="新会员第一周流失严重怎么办？"),
        alices_question=published(alice, title="How do we price the annual plan?"),
    )


@pytest.mark.parametrize(
    ("viewport", "language"), [(PHONE, "en"), (DESKTOP, "zh-hans")], ids=["390-en", "1366-zh"]
)
def test_a_member_turns_answers_off_and_invitations_to_the_portal_only(
    signed_in: SignedIn,
    live_server: Any,
    circle: Circle,
    artifacts: Path,
    mailoutbox: list[Any],
    viewport: dict[str, int],
    language: str,
) -> None:
    base = str(live_server)
    name = f"notification-preferences-{viewport['width']}-{language}"
    page = signed_in(circle.lin.user, viewport=viewport, language=language)

    # --- 1. From the notifications list to the settings ------------------------------------
    page.goto(f"{base}/notifications/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#notification-settings-link").click()
    expect(page).to_have_url(f"{base}/notifications/settings/")
    scheduled = page.locator(f"#pref-kind_{Kind.BRIEF_SCHEDULED}")
    expect(scheduled.locator("legend")).to_have_text(
        "你的问题说明已排期" if language == "zh-hans" else "Your brief was scheduled"
    )
    expect(page.locator("fieldset[id^=pref-kind_]")).to_have_count(len(Kind.values))
    expect(page.locator("#pref-kind_new_answer input[value=portal_email]")).to_be_checked()
    digest = page.locator(f"#id_digest_{circle.community.pk}")
    expect(digest).to_be_checked()
    expect(page.locator("#duty-notices")).to_be_visible()
    page.screenshot(path=artifacts / f"{name}-1-page.png", full_page=True)
    assert page.evaluate(OVERFLOW) <= 0

    # --- 2. Answers off, invitations in the portal only, the digest off; saved --------------
    page.locator("#pref-kind_new_answer input[value=off]").check()
    page.locator("#pref-kind_invited input[value=portal]").check()
    digest.uncheck()
    page.locator("#save-notification-settings").click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    expect(page.locator("#pref-kind_new_answer input[value=off]")).to_be_checked()
    expect(page.locator("#pref-kind_invited input[value=portal]")).to_be_checked()
    expect(page.locator(f"#id_digest_{circle.community.pk}")).not_to_be_checked()
    page.screenshot(path=artifacts / f"{name}-2-saved.png", full_page=True)
    assert page.evaluate(OVERFLOW) <= 0
    assert notifications.preferences_of(user=circle.lin.user) == {
        **dict.fromkeys(Kind.values, Channel.PORTAL_AND_EMAIL),
        Kind.NEW_ANSWER: Channel.OFF,
        Kind.INVITED: Channel.PORTAL,
    }
    assert DigestSubscription.objects.get(membership=circle.lin).emails is False

    # --- 3. Alice answers lin's question; the moderator invites lin to answer Alice's --------
    mailoutbox.clear()
    question_services.answer_create(
        author=circle.alice, question=circle.lins_question, body="先定义“激活”。"
    )
    question_services.invitations_create(
        moderator=circle.moderator, question=circle.alices_question, invitees=[circle.lin.pk]
    )
    # the answer is not recorded; the invitation is, and neither is e-mailed to lin
    kinds = set(
        Notification.objects.filter(recipient=circle.lin.user).values_list("kind", flat=True)
    )
    assert kinds == {Kind.BRIEF_SCHEDULED, Kind.INVITED}
    assert [m for m in mailoutbox if "lin@example.com" in m.to] == []

    # --- 4. The list shows the invitation, not the answer ----------------------------------
    page.goto(f"{base}/notifications/")
    items = page.locator("li.notification")
    expect(items).to_have_count(2)
    invited = items.filter(has_text="How do we price the annual plan?")
    expect(invited).to_have_count(1)
    expect(invited).to_have_class("notification unread")
    expect(items.filter(has_text="alice")).to_have_count(0)
    page.screenshot(path=artifacts / f"{name}-3-list.png", full_page=True)
    assert page.evaluate(OVERFLOW) <= 0

    # --- 5. Someone who kept the default is still told by e-mail -----------------------------
    question_services.answer_create(
        author=circle.lin, question=circle.alices_question, body="年付打八五折。"
    )
    assert [m.to for m in mailoutbox] == [["alice@example.com"]]
