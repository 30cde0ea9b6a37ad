"""Issue 12: per-kind notification preferences (in the portal and by e-mail, in the portal only,
or off) and the digest's e-mails on the same page — enforced in questions.notifications alone,
again at send time; bad input changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from members.models import Community, Membership
from questions import notifications
from questions.digests import services as digest_services
from questions.models import DigestSubscription, Notification, NotificationPreference
from tests.factories import add_member, make_community, set_status
from tests.questions.helpers import answer, brief, comment, published

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
Channel = NotificationPreference.Channel
URL = "/notifications/settings/"


@pytest.fixture
def asker(community: Community) -> Membership:
    return add_member(community, profile={"handle": "asker"})


@pytest.fixture
def answerer(community: Community) -> Membership:
    return add_member(community, profile={"handle": "answerer"})


def _signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _all(channel: str) -> dict[str, str]:
    return {f"kind_{kind}": channel for kind in Kind.values}


def _checked(html: str, kind: str) -> list[str]:
    """The channels shown chosen for ``kind`` on the page."""
    return re.findall(rf'name="kind_{kind}" value="([^"]+)"[^>]*\bchecked\b', html)


def _saved(membership: Membership) -> list[tuple[str, str]]:
    return sorted(
        NotificationPreference.objects.filter(user=membership.user).values_list("kind", "channel")
    )


# --- Enforcement in notify() and at send time ------------------------------------------------


def test_by_default_every_kind_is_in_the_portal_and_by_email(asker: Membership) -> None:
    assert notifications.preferences_of(user=asker.user) == dict.fromkeys(
        Kind.values, Channel.PORTAL_AND_EMAIL
    )


def test_off_records_nothing_and_emails_nothing_for_that_kind_only(
    asker: Membership,
    answerer: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    # given the asker wants no word of answers
    notifications.preferences_set(user=asker.user, channels={Kind.NEW_ANSWER: Channel.OFF})
    # when their brief is scheduled, then answered, and the answer commented on
    with django_capture_on_commit_callbacks(execute=True):
        question = published(asker)
        written = answer(answerer, question)
        comment(asker, written)
    # then the schedule and the comment are told, the answer is not
    assert sorted(Notification.objects.values_list("kind", "recipient_id")) == sorted(
        [(Kind.BRIEF_SCHEDULED, asker.user_id), (Kind.NEW_COMMENT, answerer.user_id)]
    )
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted(
        [
            (asker.user.email, "[Circle] Your brief was scheduled"),
            (answerer.user.email, "[Circle] Your answer got a comment"),
        ]
    )


def test_portal_only_records_the_notification_and_queues_no_email(
    asker: Membership,
    answerer: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    question = published(asker)
    notifications.preferences_set(user=asker.user, channels={Kind.NEW_ANSWER: Channel.PORTAL})
    # when notified directly: no e-mail task is queued at all
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        made = notifications.notify(recipient=asker.user, kind=Kind.NEW_ANSWER, question=question)
    assert callbacks == []
    assert made is not None
    # and through the service: listed, unread, never e-mailed
    with django_capture_on_commit_callbacks(execute=True):
        answer(answerer, question)
    rows = Notification.objects.filter(recipient=asker.user, kind=Kind.NEW_ANSWER)
    assert rows.count() == 2
    assert set(rows.values_list("read_at", "emailed_at")) == {(None, None)}
    assert mailoutbox == []
    # the default still queues one
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications.notify(recipient=answerer.user, kind=Kind.NEW_ANSWER, question=question)
    assert len(callbacks) == 1


def test_off_returns_none_and_writes_no_row(asker: Membership) -> None:
    question = published(asker)
    notifications.preferences_set(user=asker.user, channels={Kind.INVITED: Channel.OFF})
    before = Notification.objects.count()
    made = notifications.notify(recipient=asker.user, kind=Kind.INVITED, question=question)
    assert made is None
    assert Notification.objects.count() == before


@pytest.mark.parametrize("later", [Channel.PORTAL, Channel.OFF])
def test_a_choice_made_before_the_email_is_sent_is_honoured(
    later: str,
    asker: Membership,
    answerer: Membership,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list,
) -> None:
    # given an answer notification whose e-mail waits for the outbox
    question = published(asker)
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        answer(answerer, question)
    assert len(waiting) == 1
    pk = Notification.objects.get(recipient=asker.user, kind=Kind.NEW_ANSWER).pk
    # when the asker changes their mind before it is sent
    notifications.preferences_set(user=asker.user, channels={Kind.NEW_ANSWER: later})
    waiting[0]()
    # then nothing is sent, now or on a rerun, and the row stays in the list
    assert mailoutbox == []
    assert notifications.email(pk) is False
    assert Notification.objects.get(pk=pk).emailed_at is None


def test_the_email_is_sent_once_when_the_choice_is_back_to_email(
    asker: Membership, answerer: Membership, mailoutbox: list
) -> None:
    question = published(asker)
    notifications.preferences_set(user=asker.user, channels={Kind.NEW_ANSWER: Channel.PORTAL})
    notification = notifications.notify(
        recipient=asker.user, kind=Kind.NEW_ANSWER, question=question
    )
    assert notification is not None
    assert notifications.email(notification.pk) is False
    notifications.preferences_set(
        user=asker.user, channels={Kind.NEW_ANSWER: Channel.PORTAL_AND_EMAIL}
    )
    assert notifications.email(notification.pk) is True
    assert notifications.email(notification.pk) is False
    assert [m.to[0] for m in mailoutbox] == [asker.user.email]


def test_preferences_are_per_person(asker: Membership, answerer: Membership) -> None:
    notifications.preferences_set(user=asker.user, channels={Kind.PRIZE_WON: Channel.OFF})
    assert notifications.preferences_of(user=asker.user)[Kind.PRIZE_WON] == Channel.OFF
    assert notifications.preferences_of(user=answerer.user)[Kind.PRIZE_WON] == (
        Channel.PORTAL_AND_EMAIL
    )


def test_setting_again_updates_the_one_row(asker: Membership) -> None:
    notifications.preferences_set(user=asker.user, channels={Kind.INVITED: Channel.OFF})
    notifications.preferences_set(user=asker.user, channels={Kind.INVITED: Channel.PORTAL})
    assert _saved(asker) == [(Kind.INVITED, Channel.PORTAL)]


# --- Bad input changes nothing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "key", "message"),
    [
        (
            {Kind.INVITED: Channel.OFF, "nonsense": Channel.OFF},
            "nonsense",
            "There is no notification of the kind “nonsense”.",
        ),
        (
            {Kind.INVITED: Channel.OFF, Kind.NEW_ANSWER: "sms"},
            Kind.NEW_ANSWER,
            "Choose in the portal and by e-mail, in the portal only, or off.",
        ),
    ],
)
def test_an_unknown_kind_or_channel_is_refused_and_nothing_is_saved(
    channels: dict[str, str], key: str, message: str, asker: Membership
) -> None:
    with pytest.raises(ValidationError) as refused:
        notifications.preferences_set(user=asker.user, channels=channels)
    assert refused.value.message_dict == {key: [message]}
    assert _saved(asker) == []


@pytest.mark.parametrize(("kind", "channel"), [("nonsense", "off"), ("invited", "sms")])
def test_the_database_refuses_an_unknown_kind_or_channel(
    kind: str, channel: str, asker: Membership
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationPreference.objects.create(user=asker.user, kind=kind, channel=channel)


def test_settings_save_refuses_someone_elses_membership(
    asker: Membership, answerer: Membership
) -> None:
    with pytest.raises(PermissionDenied):
        notifications.settings_save(
            user=asker.user,
            channels={Kind.INVITED: Channel.OFF},
            digest_emails=[(answerer, False)],
        )
    assert _saved(asker) == []
    assert not DigestSubscription.objects.exists()


# --- The page ------------------------------------------------------------------------------


def test_the_page_needs_sign_in(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Client().post(URL, _all(Channel.OFF)).status_code == 302
    assert not NotificationPreference.objects.exists()


def test_the_page_shows_each_kind_the_digest_and_the_duty_notice(
    asker: Membership, community: Community
) -> None:
    # given a second community where the asker is only pending, and a lapsed one
    other = make_community(slug="other", name="Other circle")
    set_status(add_member(other, user=asker.user), Membership.Status.PENDING)
    lapsed = make_community(slug="lapsed", name="Lapsed circle")
    set_status(add_member(lapsed, user=asker.user), Membership.Status.LAPSED)
    notifications.preferences_set(user=asker.user, channels={Kind.RUNNER_UP: Channel.PORTAL})
    # when
    response = _signed_in(asker).get(URL)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    for kind, label in Kind.choices:
        assert f'id="pref-kind_{kind}"' in html
        assert str(label) in html
    assert html.count('type="radio"') == 3 * len(Kind.values)
    assert _checked(html, Kind.RUNNER_UP) == [Channel.PORTAL]
    assert _checked(html, Kind.INVITED) == [Channel.PORTAL_AND_EMAIL]
    assert f'name="digest_{community.pk}"' in html
    assert f'name="digest_{lapsed.pk}"' in html
    assert f'name="digest_{other.pk}"' not in html
    assert "E-mail me the weekly digest of Circle" in html
    assert "Moderator duty notices" in html
    assert "cannot be turned off here" in html


def test_saving_sets_the_channels_and_the_digest_emails(
    asker: Membership, community: Community, mailoutbox: list
) -> None:
    # given
    data = _all(Channel.PORTAL_AND_EMAIL) | {
        f"kind_{Kind.NEW_ANSWER}": Channel.OFF,
        f"kind_{Kind.INVITED}": Channel.PORTAL,
    }  # the digest checkbox left unticked: off
    # when
    response = _signed_in(asker).post(URL, data)
    # then
    assert response.status_code == 302
    assert response["Location"] == URL
    prefs = notifications.preferences_of(user=asker.user)
    assert (prefs[Kind.NEW_ANSWER], prefs[Kind.INVITED], prefs[Kind.PRIZE_WON]) == (
        Channel.OFF,
        Channel.PORTAL,
        Channel.PORTAL_AND_EMAIL,
    )
    assert DigestSubscription.objects.get(membership=asker).emails is False
    # and ticking it again turns the digest back on
    data[f"digest_{community.pk}"] = "on"
    assert _signed_in(asker).post(URL, data).status_code == 302
    assert DigestSubscription.objects.get(membership=asker).emails is True


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (
            {"kind_nonsense": "off"},
            "These settings do not exist: kind_nonsense. Nothing was saved.",
        ),
        ({"digest_999999": "on"}, "These settings do not exist: digest_999999. Nothing was saved."),
        ({f"kind_{Kind.NEW_ANSWER}": "sms"}, "Select a valid choice. sms is not one of"),
    ],
)
def test_bad_input_is_a_clear_error_and_nothing_is_saved(
    extra: dict[str, str], error: str, asker: Membership, community: Community
) -> None:
    # given a valid change besides the bad one, the digest ticked off
    data = _all(Channel.PORTAL_AND_EMAIL) | {f"kind_{Kind.INVITED}": Channel.OFF} | extra
    # when
    response = _signed_in(asker).post(URL, data)
    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    # what was chosen is kept on the page
    assert _checked(html, Kind.INVITED) == [Channel.OFF]
    assert _saved(asker) == []
    assert not DigestSubscription.objects.exists()


def test_an_unknown_channel_error_is_next_to_its_kind(asker: Membership) -> None:
    data = _all(Channel.PORTAL_AND_EMAIL) | {f"kind_{Kind.PRIZE_WON}": "sms"}
    response = _signed_in(asker).post(URL, data)
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [f"kind_{Kind.PRIZE_WON}"]
    html = response.content.decode()
    block = html[html.index('id="pref-kind_prize_won"') :]
    block = block[: block.index("</fieldset>")]
    assert "Select a valid choice." in block


def test_a_missing_kind_is_required(asker: Membership) -> None:
    data = _all(Channel.OFF)
    del data[f"kind_{Kind.INVITED}"]
    response = _signed_in(asker).post(URL, data)
    assert response.status_code == 400
    assert response.context["form"].errors == {f"kind_{Kind.INVITED}": ["This field is required."]}
    assert _saved(asker) == []


def test_one_click_unsubscribe_still_works_and_the_page_shows_it(
    asker: Membership, community: Community
) -> None:
    # given the digest on
    assert (
        _signed_in(asker)
        .post(URL, _all(Channel.PORTAL_AND_EMAIL) | {f"digest_{community.pk}": "on"})
        .status_code
        == 302
    )
    # when the one-click link in a digest e-mail is used, signed out
    token = digest_services.unsubscribe_token(asker.pk)
    response = Client().post(reverse("digests:unsubscribe", kwargs={"token": token}))
    assert response.status_code == 200
    # then the page shows the digest off
    html = _signed_in(asker).get(URL).content.decode()
    assert f'name="digest_{community.pk}" id="id_digest_{community.pk}">' in html
    assert DigestSubscription.objects.get(membership=asker).emails is False


def test_the_digest_page_and_this_page_agree(asker: Membership, community: Community) -> None:
    client = _signed_in(asker)
    client.post(reverse("digests:settings", kwargs={"slug": community.slug}), {})
    html = client.get(URL).content.decode()
    assert f'name="digest_{community.pk}" id="id_digest_{community.pk}">' in html
    client.post(URL, _all(Channel.PORTAL_AND_EMAIL) | {f"digest_{community.pk}": "on"})
    page = client.get(reverse("digests:settings", kwargs={"slug": community.slug}))
    assert 'name="emails" id="id_emails" checked' in page.content.decode()


def test_the_account_menu_and_the_notifications_page_link_here(asker: Membership) -> None:
    client = _signed_in(asker)
    home = client.get(reverse("questions:notifications")).content.decode()
    assert home.count(f'href="{URL}"') == 2  # the account menu and the list


def test_the_page_is_in_chinese(asker: Membership) -> None:
    client = _signed_in(asker)
    html = client.get(URL, headers={"accept-language": "zh-hans"}).content.decode()
    # (the kinds' names are in the catalogue already; this page's own strings join it with
    # the lead's merge of /tmp/zh/h5.json)
    assert "你的问题说明已排期" in html
    assert "保存" in html


@pytest.mark.parametrize("communities", [1, 4])
def test_the_page_takes_a_fixed_number_of_queries(
    communities: int, asker: Membership, django_assert_max_num_queries: Any
) -> None:
    for i in range(communities - 1):
        add_member(make_community(slug=f"c{i}", name=f"C{i}"), user=asker.user)
    client = _signed_in(asker)
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200


def test_a_brief_alone_notifies_nobody(asker: Membership) -> None:
    # guard: the enforcement tests above count on briefs making no notification by themselves
    brief(asker)
    assert not Notification.objects.exists()


# --- The API -------------------------------------------------------------------------------

API_URL = "/api/v1/me/notification-preferences/"


def _api(membership: Membership) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def test_the_api_needs_credentials(db: None) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(API_URL).status_code == 401
    assert APIClient().put(API_URL, {"kinds": {"invited": "off"}}).status_code == 401
    assert not NotificationPreference.objects.exists()


def test_the_api_reads_and_changes_the_preferences(asker: Membership, community: Community) -> None:
    client = _api(asker)
    assert client.get(API_URL).json() == {
        "kinds": dict.fromkeys(Kind.values, Channel.PORTAL_AND_EMAIL),
        "digests": [{"community": "circle", "emails": True}],
    }
    response = client.put(
        API_URL,
        {
            "kinds": {"invited": "off", "new_answer": "portal"},
            "digests": [{"community": "circle", "emails": False}],
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "kinds": dict.fromkeys(Kind.values, Channel.PORTAL_AND_EMAIL)
        | {"invited": "off", "new_answer": "portal"},
        "digests": [{"community": "circle", "emails": False}],
    }
    # kinds left out keep theirs
    assert client.put(API_URL, {"kinds": {"invited": "portal"}}).json()["kinds"]["new_answer"] == (
        "portal"
    )
    assert DigestSubscription.objects.get(membership=asker).emails is False


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"kinds": {"invited": "off", "nonsense": "off"}},
            {"kinds": ["There is no notification of the kind “nonsense”."]},
        ),
        (
            {"kinds": {"invited": "off", "new_answer": "sms"}},
            {"kinds": {"new_answer": ['"sms" is not a valid choice.']}},
        ),
        (
            {"kinds": {"invited": "off"}, "digests": [{"community": "elsewhere", "emails": False}]},
            {"digests": ["You do not receive the digest of “elsewhere”."]},
        ),
        (
            {"kinds": ["invited"]},
            {"kinds": ['Expected a dictionary of items but got type "list".']},
        ),
    ],
)
def test_the_api_refuses_bad_input_and_saves_nothing(
    body: dict[str, Any], expected: dict[str, Any], asker: Membership
) -> None:
    make_community(slug="elsewhere", name="Elsewhere")
    response = _api(asker).put(API_URL, body)
    assert response.status_code == 400
    assert response.json() == expected
    assert _saved(asker) == []
    assert not DigestSubscription.objects.exists()
