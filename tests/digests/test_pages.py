"""The digest's portal pages (SPEC §2.7): the archive, a week's digest, curation with its
previews, candidates' challenge-only view, a sanitised summary on every surface, the on-duty
console's section; and the query budgets of the archive and the digest, the same for little
and for much data."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import Membership
from questions.digests import services as digest_services
from questions.digests.models import Digest
from questions.models import Question
from tests.digests.helpers import (
    LABEL,
    W46,
    World,
    api_of,
    candidate,
    client_of,
    closed_world,
    lapse,
    outsider,
    publish,
)
from tests.factories import bulk_members, bulk_questions, make_community
from tests.rewards.weekly_helpers import AFTER_W45, MONDAY_W45, W45, WEEK

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(
    time_machine: time_machine.TimeMachineFixture, django_capture_on_commit_callbacks: Any
) -> World:
    return closed_world(time_machine, django_capture_on_commit_callbacks)


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- The archive and a digest -------------------------------------------------------------------


def test_the_archive_shows_members_published_digests_and_curators_drafts(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    url = f"/c/{w.slug}/digests/"
    html = _page(client_of(w.member), url)
    assert f'id="digest-{LABEL}"' not in html
    assert "No digest is published yet." in html
    for m in (w.moderator, w.organiser):
        html = _page(client_of(m), url)
        row = html[html.index(f'id="digest-{LABEL}"') :]
        row = row[: row.index("</tr>")]
        assert "Draft" in row
        assert f'href="/c/{w.slug}/digests/{LABEL}/curate/"' in row
    assert Client().get(url).status_code == 302  # to sign in
    assert client_of(outsider()).get(url).status_code == 403
    publish(w, django_capture_on_commit_callbacks)
    html = _page(client_of(w.member), url)
    row = html[html.index(f'id="digest-{LABEL}"') :]
    row = row[: row.index("</tr>")]
    assert "Published" in row
    assert f'href="/c/{w.slug}/digests/{LABEL}/"' in row
    assert "/curate/" not in row


def test_a_published_digest_as_a_member_reads_it(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    publish(w, django_capture_on_commit_callbacks, summary="What we *learnt* this week.")
    html = _page(client_of(w.member), f"/c/{w.slug}/digests/{LABEL}/")
    assert "<em>learnt</em>" in html
    assert 'id="digest-draft"' not in html
    assert 'id="digest-updated"' not in html
    assert f"curated by {w.moderator.profile.handle}" in html
    assert "/curate/" not in html
    for q in w.questions:
        assert f'id="digest-q-{q.pk}"' in html
    for a in w.answers:
        assert f'id="digest-a-{a.pk}"' in html
        assert a.author.profile.handle in html
    assert "Answer 3 to Question 0." in html
    # the member's e-mail has the same content
    [sent] = [m for m in mail.outbox if m.to == [w.member.user.email] and "digest" in m.subject]
    assert "What we *learnt* this week." in sent.body
    assert "<em>learnt</em>" in sent.alternatives[0][0]
    assert "Answer 3 to Question 0." in sent.body


def test_the_email_previews_are_the_members_email(w: World) -> None:
    digest_services.digest_curate(digest=w.digest(), editor=w.moderator, summary="Preview *me*.")
    client = client_of(w.moderator)
    base = f"/c/{w.slug}/digests/{LABEL}/email/"
    html = _page(client, base)
    assert "<em>me</em>" in html
    assert "Preview *me*." not in html
    assert "Answer 3 to Question 0." in html
    assert "https://unsubscribe.invalid/" in html  # the link each recipient gets replaced
    text = client.get(f"{base}?format=text")
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    body = text.content.decode()
    assert "Preview *me*." in body
    assert "Answer 3 to Question 0." in body
    assert "¥100.00" in body  # the winners with their amounts
    assert "Next week's question about pricing" in body


def test_a_candidate_reads_only_the_challenge_questions_of_a_digest(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    cand = candidate(w.community)
    publish(w, django_capture_on_commit_callbacks, summary="A summary for members only.")
    client = client_of(cand)
    # no challenge in the week: not in their archive
    assert f'id="digest-{LABEL}"' not in _page(client, f"/c/{w.slug}/digests/")
    challenge, other = w.questions[1], w.questions[0]
    Question.objects.filter(pk=challenge.pk).update(is_challenge=True)
    assert f'id="digest-{LABEL}"' in _page(client, f"/c/{w.slug}/digests/")
    html = _page(client, f"/c/{w.slug}/digests/{LABEL}/")
    assert f'id="digest-q-{challenge.pk}"' in html
    assert challenge.title in html
    assert f'id="digest-q-{other.pk}"' not in html
    main = html[html.index("<h1>") :]
    assert other.title not in main
    for a in w.answers[:4]:  # the other question's answers
        assert a.body not in html
        assert f'id="digest-a-{a.pk}"' not in html
    assert "A summary for members only." not in html
    assert 'id="digest-fund"' not in html
    assert 'id="digest-kpis"' not in html
    assert 'id="digest-next"' not in html  # next week's question is no challenge
    winners = html[html.index('id="digest-winners"') : html.index('id="digest-questions"')]
    assert w.answers[5].author.profile.handle in winners  # place 3, on the challenge
    assert "¥40.00" in winners
    assert "¥100.00" not in winners
    assert client.get(f"/c/{w.slug}/digests/{LABEL}/curate/").status_code == 403


def test_a_draft_is_hidden_from_a_lapsed_moderator_of_the_week(w: World) -> None:
    lapsed = lapse(w.moderator)
    client = client_of(lapsed)
    assert client.get(f"/c/{w.slug}/digests/{LABEL}/").status_code == 404
    assert client.get(f"/c/{w.slug}/digests/{LABEL}/curate/").status_code == 403


def test_the_archive_leaves_the_draft_out_for_a_lapsed_moderator_of_the_week(w: World) -> None:
    lapsed = lapse(w.moderator)
    assert f'id="digest-{LABEL}"' not in _page(client_of(lapsed), f"/c/{w.slug}/digests/")


# --- A summary with HTML and scripts ------------------------------------------------------------

NASTY = (
    "Safe **bold**.\n\n"
    '<script>alert("xss-script")</script>\n\n'
    '<iframe src="https://evil.example/frame"></iframe>\n\n'
    "[click me](javascript:alert('xss-link'))\n\n"
    '<a href="javascript:alert(1)" onclick="steal()">raw link</a>\n\n'
    "<img src=x onerror=alert('xss-img')>"
)


class _Tags(HTMLParser):
    """Every element of a page with its attributes, and the text inside script elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _assert_clean(html: str, where: str) -> None:
    parser = _Tags()
    parser.feed(html)
    assert not any("xss" in script for script in parser.scripts), where
    for tag, attrs in parser.tags:
        assert tag not in ("iframe", "img"), (where, tag, attrs)
        assert not any(k.startswith("on") for k in attrs), (where, tag, attrs)
        for name in ("href", "src", "action"):
            value = re.sub(r"\s", "", attrs.get(name, "")).lower()
            assert not value.startswith("javascript:"), (where, tag, attrs)


def test_a_summary_with_scripts_comes_out_sanitised_everywhere(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    digest = w.digest()
    response = api_of(w.moderator).patch(
        f"/api/v1/digests/{digest.pk}/", {"summary": NASTY}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["summary"] == NASTY  # the source, as written (JSON, not HTML)
    digest.refresh_from_db()
    assert "<strong>bold</strong>" in digest.summary_html
    _assert_clean(digest.summary_html, "summary_html")
    moderator = client_of(w.moderator)
    surfaces = {
        "draft page": _page(moderator, f"/c/{w.slug}/digests/{LABEL}/"),
        "curate page": _page(moderator, f"/c/{w.slug}/digests/{LABEL}/curate/"),
        "e-mail preview": _page(moderator, f"/c/{w.slug}/digests/{LABEL}/email/"),
        "browsable API": moderator.get(
            f"/api/v1/digests/{digest.pk}/", HTTP_ACCEPT="text/html"
        ).content.decode(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        digest_services.digest_publish(digest=w.digest(), publisher=w.moderator)
    surfaces["member's page"] = _page(client_of(w.member), f"/c/{w.slug}/digests/{LABEL}/")
    sent = [m for m in mail.outbox if "the digest of" in m.subject]
    assert sent
    for message in sent[:5]:
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        surfaces[f"e-mail to {message.to[0]}"] = html
    secret = digest_services.feed_secret_renew(membership=w.member).feed_secret
    feed = Client().get(f"/c/{w.slug}/digests/feed/{secret}/").content.decode()
    import html as html_lib

    surfaces["feed entry (unescaped)"] = html_lib.unescape(feed)
    for where, html in surfaces.items():
        _assert_clean(html, where)
    assert "<strong>bold</strong>" in surfaces["member's page"]
    assert "<strong>bold</strong>" in surfaces["e-mail preview"]
    assert "<strong>bold</strong>" in surfaces["feed entry (unescaped)"]


# --- The on-duty console ------------------------------------------------------------------------


def test_the_console_links_the_weeks_draft(
    w: World, django_capture_on_commit_callbacks: Any
) -> None:
    organiser = client_of(w.organiser)
    html = _page(organiser, f"/c/{w.slug}/duty/{LABEL}/")
    section = html[html.index('id="duty-digest"') :]
    assert "Drafted at the close" in section
    assert f'href="/c/{w.slug}/digests/{LABEL}/curate/"' in section
    publish(w, django_capture_on_commit_callbacks)
    section = _page(organiser, f"/c/{w.slug}/duty/{LABEL}/")
    assert "Drafted at the close" not in section[section.index('id="duty-digest"') :]
    assert 'id="digest-state">Published' in section


# --- Query budgets ------------------------------------------------------------------------------

# Measured: the session and user, the membership, the digest(s), then the digest's items,
# winners, next week's questions and the moderator's profile (the same at every size).
BUDGETS = {"archive": 5, "detail": 9, "curate": 11, "email": 9}


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _digest_world(
    traveller: time_machine.TimeMachineFixture, slug: str, *, questions: int, answers: int
) -> tuple[Membership, Membership, Digest]:
    """A community with ``questions`` questions of ``answers`` answers each in W45 (and as
    many scheduled into W46), drafted with three winners, KPIs and a moderator, published.
    Returns (a plain member, the week's moderator, the digest)."""
    traveller.move_to(MONDAY_W45)
    community = make_community(slug=slug, privacy_threshold=10_000)
    people = bulk_members(community, answers + 3, prefix=slug)
    made = bulk_questions(community, people, questions, week=W45, answers=answers)
    bulk_questions(community, people, questions, week=W46, start=questions)
    traveller.move_to(AFTER_W45)
    moderator = people[0]
    found = list(
        Question.objects.filter(pk__in=[q.pk for q in made])
        .prefetch_related("answers")
        .order_by("pk")
    )
    all_answers = [a for q in found for a in q.answers.all()]
    facts = digest_services.CloseFacts(
        votes={a.pk: i % 4 for i, a in enumerate(all_answers)},
        winners=[
            digest_services.Winner(place=i + 1, answer_id=a.pk, amount=1000 * (3 - i))
            for i, a in enumerate(all_answers[:3])
        ],
        fund={"reward_budget": 20000, "operations_budget": 7000, "reward_paid": 6000},
        kpis={"answerers": 5, "answers": 9, "quality": 4.2, "target_answerers": 10, "pay": 1},
        moderator_id=moderator.pk,
    )
    digest = digest_services.digest_draft(community=community, week=W45, facts=facts)
    digest = digest_services.digest_curate(digest=digest, editor=moderator, summary="Sum.")
    digest = digest_services.digest_publish(digest=digest, publisher=moderator)
    return people[-1], moderator, digest


def test_the_digest_pages_run_a_fixed_number_of_queries(
    time_machine: time_machine.TimeMachineFixture, django_assert_max_num_queries: Any
) -> None:
    counts: dict[str, list[int]] = {k: [] for k in BUDGETS}
    sizes = [(2, 2, 1), (8, 8, 9)]  # (questions, answers each, digests in the archive)
    for n, (questions, answers, digests) in enumerate(sizes):
        slug = f"budget-{n}"
        member, moderator, digest = _digest_world(
            time_machine, slug, questions=questions, answers=answers
        )
        assert digest.items.count() == questions * answers
        Digest.objects.bulk_create(
            Digest(
                community=digest.community,
                week=W45 - (k + 1) * WEEK,
                state=Digest.State.PUBLISHED,
                summary=f"Older {k}.",
                published_at=digest.published_at,
            )
            for k in range(digests - 1)
        )
        reader, curator = client_of(member), client_of(moderator)
        base = f"/c/{slug}/digests/"
        html = _page(reader, base)
        assert html.count('<tr id="digest-') == digests
        html = _page(reader, f"{base}{LABEL}/")
        assert html.count('class="digest-answer"') == questions * answers
        assert html.count("<li><a href=") >= questions  # next week's questions
        for key, client, url in (
            ("archive", reader, base),
            ("detail", reader, f"{base}{LABEL}/"),
            ("curate", curator, f"{base}{LABEL}/curate/"),
            ("email", curator, f"{base}{LABEL}/email/"),
        ):
            counts[key].append(_queries(client, url))
            with django_assert_max_num_queries(BUDGETS[key]):
                client.get(url)
    for key, (small, large) in counts.items():
        assert small == large, (key, counts)
    assert W45 + WEEK == W46
