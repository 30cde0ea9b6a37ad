"""E-mails are written in the recipient's language: the one they signed up in, or last chose
from the language menu; the site's when we know none (members.mail)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from members import services
from members.models import Community, Membership, User
from questions import services as question_services
from tests.factories import PASSWORD, UserFactory, add_member, organiser_of
from tests.questions.helpers import brief, this_week

pytestmark = pytest.mark.django_db


def test_signing_up_in_chinese_keeps_chinese_for_e_mails(client: Client, settings: Any) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    response = client.post(
        "/accounts/signup/",
        {"email": "mei@example.com", "password1": PASSWORD, "password2": PASSWORD},
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 302, response.content
    assert User.objects.get(email="mei@example.com").language == "zh-hans"


def test_the_language_menu_keeps_a_signed_in_person_s_choice(client: Client) -> None:
    user = UserFactory()
    # a visitor's choice sets only the cookie
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert (response.status_code, response["Location"]) == (302, "/")
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"
    user.refresh_from_db()
    assert user.language == "zh-hans"
    # a language the site does not have changes nothing and is no error
    response = client.post("/i18n/setlang/", {"language": "klingon", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "zh-hans"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
    # spelt as browsers and people do: kept as the site spells it
    client.post("/i18n/setlang/", {"language": "zh-Hans", "next": "/"})
    user.refresh_from_db()
    assert user.language == "zh-hans"


def test_signing_in_without_a_language_keeps_the_one_in_use(client: Client) -> None:
    user = UserFactory(email="lin@example.com")
    assert user.language == ""
    client.cookies["django_language"] = "zh-hans"
    response = client.post("/accounts/login/", {"login": "lin@example.com", "password": PASSWORD})
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.language == "zh-hans"


def test_notifications_are_e_mailed_in_each_recipient_s_language(
    community: Community,
    moderator: Membership,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    # given: a site in English, an asker who reads Chinese and one with no language known
    settings.LANGUAGE_CODE = "en"
    chinese = add_member(community, profile={"handle": "mei"})
    User.objects.filter(pk=chinese.user_id).update(language="zh-hans")
    unknown = add_member(community, profile={"handle": "sam"})
    # when both their briefs are scheduled
    with django_capture_on_commit_callbacks(execute=True):
        for asker in (chinese, unknown):
            question_services.question_schedule(
                moderator=moderator, question=brief(asker), week=this_week(community)
            )
    # then
    subjects = {tuple(m.to): m.subject for m in mailoutbox}
    assert subjects == {
        (chinese.user.email,): "[Circle] 你的问题说明已排期",
        (unknown.user.email,): "[Circle] Your brief was scheduled",
    }


def test_the_welcome_e_mail_is_in_the_member_s_language(
    community: Community,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    UserFactory(email="back@example.com", language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        services.member_add(
            actor=organiser_of(community), community=community, email="back@example.com"
        )
    [sent] = mailoutbox
    assert sent.subject == f"你已成为 {community.name} 的成员"
