"""One-click unsubscribe from the digest e-mails (RFC 8058; SPEC §2.7): the mail client POSTs
``List-Unsubscribe=One-Click`` to the link in the ``List-Unsubscribe`` header with no session
and no CSRF token; a GET (a link scanner) only shows a page; forged, altered and expired links
change nothing and are never a server error."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.test import Client
from django.urls import reverse
from time_machine import travel

from members.models import Membership
from questions.digests import services
from questions.digests.models import DigestSubscription
from tests.digests import delivery_helpers as h
from tests.factories import UserFactory, add_member
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def now(time_machine: Any) -> datetime.datetime:
    time_machine.move_to(h.AFTER_W45)
    return h.AFTER_W45


@pytest.fixture(scope="module")
def _circle(django_db_setup: None, django_db_blocker: Any) -> Iterator[h.Cast]:
    """The cast, built once per module (tests/worlds.py) at the moment the tests start from
    (``now``; time stands still while it is built, so nothing in it is later than that)."""
    with shared_world(django_db_blocker):
        with travel(h.AFTER_W45, tick=False):
            cast = h.cast(slug="unsub", members=2)
        yield settled(cast)


@pytest.fixture
def circle(now: datetime.datetime, _circle: h.Cast, db: None) -> h.Cast:
    return fresh(_circle)


@pytest.fixture
def mail_client() -> Client:
    """What a mail client (or provider) is: no session, no cookies, CSRF enforced."""
    return Client(enforce_csrf_checks=True)


def url(token: str) -> str:
    """The link as an e-mail carries it (the token percent-encoded where it must be)."""
    return "/digests/unsubscribe/" + quote(token, safe=":") + "/"


def one_click(client: Client, token: str) -> Any:
    return client.post(url(token), data=ONE_CLICK, content_type=FORM)


def emails_on(membership: Membership) -> bool:
    found = DigestSubscription.objects.filter(membership=membership).first()
    return found is None or found.emails


def subscriptions() -> list[tuple[int, bool, str | None]]:
    return sorted(DigestSubscription.objects.values_list("membership_id", "emails", "feed_secret"))


def test_one_click_post_turns_the_member_s_e_mails_off_with_no_session_or_csrf_token(
    circle: h.Cast, mail_client: Client, django_capture_on_commit_callbacks: h.Capture
) -> None:
    target = circle.members[0]
    response = one_click(mail_client, services.unsubscribe_token(target.pk))

    assert response.status_code == 200
    assert b'id="unsubscribed"' in response.content
    assert not emails_on(target)
    assert all(emails_on(m) for m in circle.eligible if m != target)
    # the next digest queues nobody for them, and everyone else as before
    digest = h.published(circle.community, circle.organiser, django_capture_on_commit_callbacks)
    assert set(h.rows(digest)) == h.ids(circle.eligible) - {target.pk}
    assert h.address_of(target) not in h.copies()


def test_the_link_in_a_received_e_mail_unsubscribes_its_recipient(
    circle: h.Cast, mail_client: Client, django_capture_on_commit_callbacks: h.Capture
) -> None:
    h.published(circle.community, circle.organiser, django_capture_on_commit_callbacks)
    [message] = [m for m in h.digest_messages() if m.to[0].lower() == h.address_of(circle.zh)]
    link = re.fullmatch(r"<(.+)>", message.extra_headers["List-Unsubscribe"])
    assert link
    path = link[1].removeprefix(django_settings.SITE_URL)
    assert path.startswith("/digests/unsubscribe/")

    response = mail_client.post(path, data=ONE_CLICK, content_type=FORM)

    assert response.status_code == 200
    assert not emails_on(circle.zh)
    assert all(emails_on(m) for m in circle.eligible if m != circle.zh)
    second = h.published(
        circle.community, circle.organiser, django_capture_on_commit_callbacks, week=h.W46
    )
    assert circle.zh.pk not in h.rows(second)


def test_unsubscribing_twice_is_fine_and_changes_nothing_more(
    circle: h.Cast, mail_client: Client
) -> None:
    token = services.unsubscribe_token(circle.members[1].pk)
    assert one_click(mail_client, token).status_code == 200
    before = subscriptions()
    assert one_click(mail_client, token).status_code == 200
    assert subscriptions() == before
    assert not emails_on(circle.members[1])


def test_it_unsubscribes_from_that_community_only(
    now: datetime.datetime, mail_client: Client
) -> None:
    person = UserFactory()
    first = add_member(h.make_community(slug="first"), user=person)
    second = add_member(h.make_community(slug="second"), user=person)

    assert one_click(mail_client, services.unsubscribe_token(first.pk)).status_code == 200

    assert not emails_on(first)
    assert emails_on(second)


def test_a_signed_in_person_unsubscribes_the_link_s_member_not_themself(
    circle: h.Cast,
) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(circle.members[0].user)
    response = one_click(browser, services.unsubscribe_token(circle.members[1].pk))
    assert response.status_code == 200
    assert emails_on(circle.members[0])
    assert not emails_on(circle.members[1])


def test_get_shows_a_confirmation_page_and_changes_nothing(
    circle: h.Cast, mail_client: Client
) -> None:
    target = circle.members[0]
    token = services.unsubscribe_token(target.pk)
    before = subscriptions()

    for _scanner in range(3):  # link scanners may fetch it more than once
        response = mail_client.get(url(token))
        assert response.status_code == 200
        assert b'id="unsubscribe"' in response.content  # the one button
        assert b'name="List-Unsubscribe" value="One-Click"' in response.content
        assert circle.community.name.encode() in response.content
        assert b'id="unsubscribed"' not in response.content

    assert subscriptions() == before
    assert emails_on(target)
    # the page's own button (a plain form POST to the same address) does it
    response = mail_client.post(url(token), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not emails_on(target)


def other_key_token(membership_id: int) -> str:
    return signing.TimestampSigner(
        key="another-site's-secret-key-0123456789abcdef", salt=services.UNSUBSCRIBE_SALT
    ).sign(str(membership_id))


def forged(kind: str, victim: Membership, bystander: Membership) -> str:
    token = services.unsubscribe_token(bystander.pk)
    value, stamp, signature = token.split(":")
    if kind == "other member's id":
        return f"{victim.pk}:{stamp}:{signature}"
    if kind == "altered signature":
        return f"{value}:{stamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    if kind == "altered timestamp":
        return f"{value}:{signing.b62_encode(signing.b62_decode(stamp) + 1)}:{signature}"
    if kind == "no signature":
        return f"{victim.pk}"
    if kind == "other salt":
        return signing.TimestampSigner(salt="questions.digests.feed").sign(str(victim.pk))
    if kind == "another site's key":
        return other_key_token(victim.pk)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "other member's id",
        "altered signature",
        "altered timestamp",
        "no signature",
        "other salt",
        "another site's key",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_altered_link_is_a_404_and_changes_nothing(
    circle: h.Cast, mail_client: Client, kind: str, method: str
) -> None:
    victim, bystander = circle.members
    token = forged(kind, victim, bystander)
    before = subscriptions()

    response = one_click(mail_client, token) if method == "post" else mail_client.get(url(token))

    assert response.status_code == 404, (kind, response.status_code)
    assert b'id="unsubscribe-error"' in response.content
    assert subscriptions() == before
    assert emails_on(victim)
    assert emails_on(bystander)


def test_a_link_for_a_membership_that_no_longer_exists_is_a_404(
    circle: h.Cast, mail_client: Client
) -> None:
    token = services.unsubscribe_token(Membership.objects.order_by("-pk").first().pk + 1000)
    assert one_click(mail_client, token).status_code == 404
    assert mail_client.get(url(token)).status_code == 404


def test_an_expired_link_is_a_400_and_changes_nothing(
    circle: h.Cast, mail_client: Client, settings: Any, time_machine: Any
) -> None:
    settings.DIGEST_UNSUBSCRIBE_MAX_AGE_DAYS = 30
    target = circle.members[0]
    token = services.unsubscribe_token(target.pk)
    # still good on its last day
    time_machine.move_to(h.AFTER_W45 + datetime.timedelta(days=30, minutes=-1))
    assert mail_client.get(url(token)).status_code == 200
    time_machine.move_to(h.AFTER_W45 + datetime.timedelta(days=30, minutes=1))
    before = subscriptions()

    response = one_click(mail_client, token)

    assert response.status_code == 400
    assert b'id="unsubscribe-error"' in response.content
    assert b"expired" in response.content
    assert mail_client.get(url(token)).status_code == 400
    assert subscriptions() == before
    assert emails_on(target)
    # a fresh link (next week's e-mail) works again
    assert one_click(mail_client, services.unsubscribe_token(target.pk)).status_code == 200
    assert not emails_on(target)


JUNK = [
    "junk",
    "1",
    ":",
    "::",
    "1:",
    "1::",
    ":1:abc",
    "1:1:1",
    "1:zzzzzz:" + "A" * 43,
    "-1:1wXyZa:" + "A" * 43,
    "0" * 30 + ":1wXyZa:sig",
    "99999999999999999999999999999:1wXyZa:sig",
    "A" * 10_000,
    "1:" + "é" * 3000,
    "退订",
    "退订:令牌:签名",
    "١٢:١٢:١٢",
    "\U0001f4e7:\U0001f4e7",
    "%00",
    "..",
    "a b",
    "'; DROP TABLE questions_digestsubscription; --",
    "<script>alert(1)</script>",
    "1/2",
    "\x00",
    "1:\x00:\x00",
]


@pytest.mark.parametrize("token", JUNK, ids=range(len(JUNK)))
def test_junk_tokens_are_never_a_server_error(
    circle: h.Cast, token: str, mail_client: Client
) -> None:
    before = subscriptions()
    posted = one_click(mail_client, token)
    fetched = mail_client.get(url(token))
    assert posted.status_code in (400, 404), posted.status_code
    assert fetched.status_code in (400, 404), fetched.status_code
    assert b"<script>alert(1)</script>" not in posted.content + fetched.content
    assert subscriptions() == before


@pytest.mark.parametrize("raw", ["%FF%FE", "%C0%AF", "%ED%A0%80", "1%3A%FF%3Asig"])
def test_undecodable_bytes_in_the_link_are_never_a_server_error(
    circle: h.Cast, mail_client: Client, raw: str
) -> None:
    path = f"/digests/unsubscribe/{raw}/"
    posted = mail_client.post(path, data=ONE_CLICK, content_type=FORM)
    assert posted.status_code in (400, 404)
    assert mail_client.get(path).status_code in (400, 404)


def test_the_url_the_e_mails_carry_is_the_one_the_tests_use(circle: h.Cast) -> None:
    token = services.unsubscribe_token(circle.members[0].pk)
    assert url(token) == reverse("digests:unsubscribe", kwargs={"token": token})


def test_other_methods_are_refused(circle: h.Cast, mail_client: Client) -> None:
    token = services.unsubscribe_token(circle.members[0].pk)
    assert mail_client.put(url(token)).status_code == 405
    assert mail_client.delete(url(token)).status_code == 405
    assert emails_on(circle.members[0])
