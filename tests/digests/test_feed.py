"""A member's private Atom feed of the published digests (SPEC §2.7; questions/digests/feeds.py)
and the digest settings page that makes, renews and revokes its secret URL and turns the
e-mails on and off."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from members.models import Membership
from questions.digests import services
from questions.digests.models import Digest, DigestSubscription
from tests.digests import delivery_helpers as h
from tests.factories import add_member, set_status

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Archive:
    people: h.Cast
    w44: Digest
    w45: Digest
    w46: Digest  # a draft
    elsewhere: Digest  # published, in the other community


@pytest.fixture
def archive(time_machine: Any, django_capture_on_commit_callbacks: h.Capture) -> Archive:
    time_machine.move_to(h.AFTER_W45)
    people = h.cast(slug="feedy", members=1)
    capture = django_capture_on_commit_callbacks
    w44 = h.publish(
        h.draft(people.community, h.W44), people.organiser, capture, summary="Week **44** sum."
    )
    w45 = h.publish(
        h.draft(people.community, h.W45), people.organiser, capture, summary="Week **45** sum."
    )
    w46 = h.draft(people.community, h.W46)
    services.digest_curate(digest=w46, editor=people.organiser, summary="A draft: not yet.")
    other_organiser = h.organiser_of(people.other)
    elsewhere = h.publish(
        h.draft(people.other, h.W45), other_organiser, capture, summary="Somewhere else."
    )
    return Archive(people=people, w44=w44, w45=w45, w46=w46, elsewhere=elsewhere)


def feed_path(slug: str, secret: str) -> str:
    return reverse("digests:feed", kwargs={"slug": slug, "secret": secret})


def secret_of(membership: Membership) -> str:
    secret = services.feed_secret_renew(membership=membership).feed_secret
    assert secret
    return secret


def parse(response: Any) -> ET.Element:
    assert response.status_code == 200, response.status_code
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> list[dict[str, str]]:
    found = []
    for entry in root.findall(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        found.append(
            {
                "title": entry.findtext(f"{ATOM}title") or "",
                "link": link.get("href", "") if link is not None else "",
                "id": entry.findtext(f"{ATOM}id") or "",
                "summary": entry.findtext(f"{ATOM}summary") or "",
                "updated": entry.findtext(f"{ATOM}updated") or "",
            }
        )
    return found


# --- The feed ------------------------------------------------------------------------------------


def test_the_feed_is_valid_atom_with_the_published_digests_only_and_no_sign_in(
    archive: Archive, client: Client
) -> None:
    reader = archive.people.members[0]
    response = client.get(feed_path("feedy", secret_of(reader)))

    assert response["Content-Type"].startswith("application/atom+xml")
    root = parse(response)
    assert "Digest Land" in (root.findtext(f"{ATOM}title") or "")
    found = entries(root)
    assert [e["title"] for e in found] == ["Digest of 2026-W45", "Digest of 2026-W44"]
    site = django_settings.SITE_URL
    assert [e["link"] for e in found] == [
        site + archive.w45.get_absolute_url(),
        site + archive.w44.get_absolute_url(),
    ]
    assert all(e["id"] and e["updated"] for e in found)
    assert len({e["id"] for e in found}) == 2
    assert "<strong>45</strong>" in found[0]["summary"]
    assert "<strong>44</strong>" in found[1]["summary"]
    body = response.content.decode()
    assert "A draft: not yet." not in body  # the draft of W46
    assert "2026-W46" not in body
    assert "Somewhere else." not in body  # the other community's digest
    # a secret URL: not for caches or search engines
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"


def test_the_feed_is_in_the_member_s_language(archive: Archive, client: Client) -> None:
    root = parse(client.get(feed_path("feedy", secret_of(archive.people.zh))))
    assert root.findtext(f"{ATOM}title") == "Digest Land：每周周报"
    assert [e["title"] for e in entries(root)] == ["2026-W45 周报", "2026-W44 周报"]


def test_a_digest_published_later_appears_in_the_feed(
    archive: Archive, client: Client, django_capture_on_commit_callbacks: h.Capture
) -> None:
    path = feed_path("feedy", secret_of(archive.people.moderator))
    assert len(entries(parse(client.get(path)))) == 2
    h.publish(archive.w46, archive.people.organiser, django_capture_on_commit_callbacks)
    titles = [e["title"] for e in entries(parse(client.get(path)))]
    assert titles[0] == "Digest of 2026-W46"
    assert len(titles) == 3


def test_a_wrong_secret_is_a_404(archive: Archive, client: Client) -> None:
    secret = secret_of(archive.people.members[0])
    for wrong in [
        secret[:-1] + ("0" if secret[-1] != "0" else "1"),
        secret[:-1],
        secret.upper(),
        "x" * 64,
        "0",
        "%",
        "秘密",
        secret + secret,
    ]:
        response = client.get(feed_path("feedy", wrong))
        assert response.status_code == 404, wrong
        assert b"Week" not in response.content


def test_a_secret_does_not_open_another_community_s_feed(archive: Archive, client: Client) -> None:
    secret = secret_of(archive.people.members[0])
    assert client.get(feed_path("feedy", secret)).status_code == 200
    response = client.get(feed_path("feedy-other", secret))
    assert response.status_code == 404
    assert b"Somewhere else." not in response.content
    assert client.get(feed_path("no-such-community", secret)).status_code == 404


def test_the_same_person_s_secret_opens_only_the_community_it_was_made_for(
    archive: Archive, client: Client
) -> None:
    person = archive.people.members[0].user
    there = add_member(archive.people.other, user=person)
    secret_here = secret_of(archive.people.members[0])
    secret_there = secret_of(there)
    assert secret_here != secret_there
    assert "Somewhere else." in client.get(feed_path("feedy-other", secret_there)).content.decode()
    assert client.get(feed_path("feedy-other", secret_here)).status_code == 404
    assert client.get(feed_path("feedy", secret_there)).status_code == 404


def test_renewing_kills_the_old_url_and_revoking_kills_it_all(
    archive: Archive, client: Client
) -> None:
    reader = archive.people.members[0]
    first = secret_of(reader)
    second = secret_of(reader)
    assert first != second
    assert re.fullmatch(r"[0-9a-f]{64}", second)
    assert client.get(feed_path("feedy", first)).status_code == 404
    assert client.get(feed_path("feedy", second)).status_code == 200

    services.feed_secret_revoke(membership=reader)
    assert client.get(feed_path("feedy", second)).status_code == 404
    assert client.get(feed_path("feedy", first)).status_code == 404
    assert DigestSubscription.objects.get(membership=reader).feed_secret is None


@pytest.mark.parametrize(
    ("status", "role"),
    [
        (Membership.Status.LEFT, None),
        (Membership.Status.PENDING, None),
        (Membership.Status.LAPSED, Membership.Role.CANDIDATE),
        (Membership.Status.LEFT, Membership.Role.MODERATOR),
    ],
    ids=["left", "pending", "lapsed-candidate", "moderator-who-left"],
)
def test_a_member_who_can_no_longer_read_gets_a_404(
    archive: Archive, client: Client, status: str, role: str | None
) -> None:
    reader = archive.people.members[0]
    path = feed_path("feedy", secret_of(reader))
    assert client.get(path).status_code == 200
    set_status(reader, status, role=role)
    response = client.get(path)
    assert response.status_code == 404
    assert b"Week" not in response.content


def test_a_lapsed_member_still_reads_the_archive_through_the_feed(
    archive: Archive, client: Client
) -> None:
    """Lapsed members keep reading (read-only, SPEC §2.1), so their feed keeps working."""
    reader = archive.people.members[0]
    path = feed_path("feedy", secret_of(reader))
    set_status(reader, Membership.Status.LAPSED)
    assert len(entries(parse(client.get(path)))) == 2


def test_a_candidate_s_feed_shows_no_digest_without_a_challenge_question(
    archive: Archive, client: Client
) -> None:
    candidate = archive.people.candidate
    root = parse(client.get(feed_path("feedy", secret_of(candidate))))
    assert entries(root) == []
    assert b"Week **4" not in ET.tostring(root)


# --- The settings page ---------------------------------------------------------------------------


def signed_in(membership: Membership) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(membership.user)
    return browser


def csrf_of(page: Any) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert match, "no CSRF token on the page"
    return match[1].decode()


def feed_url_on(page: Any) -> str | None:
    match = re.search(rb'id="feed-url"', page.content)
    if match is None:
        return None
    value = re.search(rb'<input[^>]*value="([^"]+)"[^>]*id="feed-url"', page.content)
    assert value
    return value[1].decode()


SETTINGS = "/c/feedy/digests/settings/"
FEED_SECRET = "/c/feedy/digests/settings/feed/"


def test_the_settings_page_makes_shows_renews_and_revokes_the_feed_url(
    archive: Archive,
) -> None:
    reader = archive.people.members[0]
    browser = signed_in(reader)
    anonymous = Client()
    page = browser.get(SETTINGS)
    assert page.status_code == 200
    assert feed_url_on(page) is None

    response = browser.post(FEED_SECRET, {"csrfmiddlewaretoken": csrf_of(page), "action": "renew"})
    assert response.status_code == 302
    assert response["Location"] == SETTINGS
    page = browser.get(SETTINGS)
    first = feed_url_on(page)
    assert first is not None
    secret = DigestSubscription.objects.get(membership=reader).feed_secret
    assert first.endswith(feed_path("feedy", secret))
    path = first.split("://", 1)[1].split("/", 1)[1]
    assert len(entries(parse(anonymous.get("/" + path)))) == 2

    browser.post(FEED_SECRET, {"csrfmiddlewaretoken": csrf_of(page), "action": "renew"})
    page = browser.get(SETTINGS)
    second = feed_url_on(page)
    assert second is not None
    assert second != first
    assert anonymous.get("/" + path).status_code == 404
    assert anonymous.get("/" + second.split("://", 1)[1].split("/", 1)[1]).status_code == 200

    browser.post(FEED_SECRET, {"csrfmiddlewaretoken": csrf_of(page), "action": "revoke"})
    page = browser.get(SETTINGS)
    assert feed_url_on(page) is None
    assert anonymous.get("/" + second.split("://", 1)[1].split("/", 1)[1]).status_code == 404


def test_the_feed_form_needs_the_csrf_token_and_a_post(archive: Archive) -> None:
    reader = archive.people.members[0]
    browser = signed_in(reader)
    assert browser.post(FEED_SECRET, {"action": "renew"}).status_code == 403
    assert browser.get(FEED_SECRET).status_code == 405
    assert not DigestSubscription.objects.filter(membership=reader).exists()


def test_the_settings_form_turns_the_e_mails_off_and_on(
    archive: Archive, django_capture_on_commit_callbacks: h.Capture, time_machine: Any
) -> None:
    reader = archive.people.members[0]
    browser = signed_in(reader)
    page = browser.get(SETTINGS)
    assert re.search(rb'<input type="checkbox" name="emails"[^>]*checked', page.content)

    # unticked: a browser sends only the CSRF token
    response = browser.post(SETTINGS, {"csrfmiddlewaretoken": csrf_of(page)})
    assert response.status_code == 302
    assert DigestSubscription.objects.get(membership=reader).emails is False
    page = browser.get(SETTINGS)
    assert not re.search(rb'<input type="checkbox" name="emails"[^>]*checked', page.content)
    digest = h.publish(archive.w46, archive.people.organiser, django_capture_on_commit_callbacks)
    assert reader.pk not in h.rows(digest)
    assert archive.people.moderator.pk in h.rows(digest)

    response = browser.post(SETTINGS, {"csrfmiddlewaretoken": csrf_of(page), "emails": "on"})
    assert response.status_code == 302
    assert DigestSubscription.objects.get(membership=reader).emails is True
    time_machine.move_to(h.AFTER_W45 + datetime.timedelta(days=7))
    later = h.published(
        archive.people.community,
        archive.people.organiser,
        django_capture_on_commit_callbacks,
        week=h.W46 + datetime.timedelta(days=7),
    )
    assert reader.pk in h.rows(later)


def test_the_settings_form_needs_the_csrf_token(archive: Archive) -> None:
    reader = archive.people.members[0]
    browser = signed_in(reader)
    assert browser.post(SETTINGS, {"emails": ""}).status_code == 403
    assert not DigestSubscription.objects.filter(membership=reader).exists()


def test_unticking_with_the_csrf_token_in_a_header_turns_the_e_mails_off(
    archive: Archive,
) -> None:
    reader = archive.people.members[0]
    browser = signed_in(reader)
    token = csrf_of(browser.get(SETTINGS))
    response = browser.post(SETTINGS, {}, headers={"X-CSRFToken": token})
    assert response.status_code == 302
    assert DigestSubscription.objects.get(membership=reader).emails is False


def test_the_settings_page_is_for_the_community_s_members(archive: Archive) -> None:
    assert Client().get(SETTINGS).status_code == 302  # to sign in
    outsider = signed_in(archive.people.outsider)
    assert outsider.get(SETTINGS).status_code in (403, 404)
    page = outsider.get("/c/feedy-other/digests/settings/")
    assert page.status_code == 200
    response = outsider.post(FEED_SECRET, {"csrfmiddlewaretoken": csrf_of(page), "action": "renew"})
    assert response.status_code in (403, 404)
    assert not DigestSubscription.objects.filter(membership=archive.people.outsider).exists()
    left = signed_in(archive.people.left)
    assert left.get(SETTINGS).status_code in (403, 404)
