"""The digest's draft, a step of the week close (SPEC §2.7): one digest per community and
week, its answers ranked by votes (ties to the earlier answer) with excerpts, the winners
with their amounts, the fund statement, the moderator's KPIs, next week's questions; made
once whatever runs again, curation never overwritten; the moderator told once."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail

from community import weekly
from community.models import WeekPipeline, WeekPipelineStep
from members.models import Community
from questions.digests import services as digest_services
from questions.digests.models import Digest, DigestItem
from questions.models import Answer
from rewards.models import Prize, WeekClose
from rotation.models import Shift
from tests.digests.helpers import (
    LABEL,
    W46,
    close,
    closed_world,
    world,
)
from tests.factories import organiser_of
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    W45,
    funded_community,
    questions_with_answers,
)

pytestmark = pytest.mark.django_db


def _drafted_mails() -> list[Any]:
    return [m for m in mail.outbox if "ready to curate" in m.subject]


def _snapshot(digest: Digest) -> list[tuple[int, int, int, str, bool]]:
    return [
        (i.answer_id, i.position, i.votes, i.excerpt, i.hidden)
        for i in DigestItem.objects.filter(digest=digest).order_by("position", "pk")
    ]


def test_closing_the_week_drafts_one_digest_ranked_by_votes(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    [digest] = Digest.objects.filter(community=w.community)
    assert (digest.week, digest.label, digest.state) == (W45, LABEL, Digest.State.DRAFT)
    assert digest.moderator_id == w.moderator.pk
    assert (digest.summary, digest.published_at, digest.revision) == ("", None, 0)
    a = w.answers
    # Grouped by question (in schedule order), each ranked by votes; 0-vote ties (a1/a3,
    # a4/a6) go to the earlier answer.
    assert _snapshot(digest) == [
        (a[2].pk, 1, 3, "Answer 3 to Question 0.", False),
        (a[0].pk, 2, 2, "Answer 1 to Question 0.", False),
        (a[1].pk, 3, 0, "Answer 2 to Question 0.", False),
        (a[3].pk, 4, 0, "Answer 4 to Question 0.", False),
        (a[5].pk, 5, 2, "Answer 6 to Question 1.", False),
        (a[7].pk, 6, 1, "Answer 8 to Question 1.", False),
        (a[4].pk, 7, 0, "Answer 5 to Question 1.", False),
        (a[6].pk, 8, 0, "Answer 7 to Question 1.", False),
    ]
    content = digest.content
    assert content["questions"] == [q.pk for q in w.questions]
    assert content["currency"] == "CNY"
    # winners with amounts: 50/30/20 of a 200.00 budget, the 2–2 tie to the earlier answer
    assert content["winners"] == [
        {"place": 1, "answer": a[2].pk, "amount": 10000},
        {"place": 2, "answer": a[0].pk, "amount": 6000},
        {"place": 3, "answer": a[5].pk, "amount": 4000},
    ]
    assert [(p.place, p.answer_id, p.amount) for p in Prize.objects.order_by("place")] == [
        (w["place"], w["answer"], w["amount"]) for w in content["winners"]
    ]
    # the fund statement, as the close recorded it
    close_row = WeekClose.objects.get(community=w.community, week=W45)
    assert content["fund"] == {
        "reward_budget": close_row.reward_budget,
        "operations_budget": close_row.operations_budget,
        "reward_paid": close_row.reward_paid,
        "operations_paid": close_row.operations_paid,
        "reward_rollover_out": close_row.reward_rollover_out,
        "operations_rollover_out": close_row.operations_rollover_out,
        "ballot_votes": close_row.ballot_votes,
        "ballot_voters": close_row.ballot_voters,
    }
    assert content["fund"]["reward_budget"] == 20000
    assert content["fund"]["reward_paid"] == 20000
    assert content["fund"]["ballot_votes"] == 8
    # the moderator's KPIs, from the shift the close computed
    shift = Shift.objects.get(community=w.community, week=W45)
    assert shift.moderator_id == w.moderator.pk
    assert content["kpis"] == {
        "answerers": 8,
        "answers": 8,
        "quality": 0.0,
        "target_answerers": shift.target_answerers,
        "target_quality": float(shift.target_quality),
        "pay": shift.pay_at_close,
    }
    # next week's scheduled questions
    assert content["next_week"] == [w.next_week.pk]
    w.next_week.refresh_from_db()
    assert w.next_week.session.week == W46


def test_the_draft_page_shows_winners_fund_kpis_and_next_week(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.digests.helpers import client_of

    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    response = client_of(w.moderator).get(f"/c/{w.slug}/digests/{LABEL}/")
    assert response.status_code == 200
    html = response.content.decode()
    a = w.answers
    winners = html[html.index('id="digest-winners"') : html.index('id="digest-questions"')]
    assert winners.index(a[2].author.profile.handle) < winners.index(a[0].author.profile.handle)
    assert "¥100.00" in winners
    assert "¥60.00" in winners
    assert "¥40.00" in winners
    fund = html[html.index('id="digest-fund"') :]
    assert "¥200.00" in fund  # the reward budget
    kpis = html[html.index('id="digest-kpis"') :]
    assert f"Moderator: {w.moderator.profile.handle}." in kpis
    assert "8 answerers" in kpis
    nxt = html[html.index('id="digest-next"') :]
    assert "Next week&#x27;s question about pricing" in nxt or "Next week's question" in nxt
    assert 'id="digest-draft"' in html
    # answers in the ranked order, with the place of the winners
    questions = html[html.index('id="digest-questions"') :]
    order = [questions.index(f'id="digest-a-{x.pk}"') for x in (a[2], a[0], a[1], a[3])]
    assert order == sorted(order)


def test_a_long_answer_gets_a_plain_text_excerpt(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = world(time_machine)
    Answer.objects.filter(pk=w.answers[1].pk).update(body="**Long** _words_ here. " * 40)
    digest = close(w, django_capture_on_commit_callbacks)
    excerpt = digest.items.get(answer=w.answers[1]).excerpt
    assert len(excerpt) == digest_services.EXCERPT_LENGTH
    assert excerpt.startswith("Long words here. Long words here.")
    assert excerpt.endswith("…")
    assert "*" not in excerpt
    assert "_" not in excerpt


def test_closing_again_or_running_the_step_again_keeps_the_draft_and_its_curation(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    digest = w.digest()
    items = list(digest.items.order_by("position"))
    digest_services.digest_curate(
        digest=digest,
        editor=w.moderator,
        summary="Curated summary.",
        items=[
            digest_services.ItemChange(
                item_id=items[0].pk, position=9, excerpt="Shortened.", hidden=False, featured=True
            ),
            digest_services.ItemChange(
                item_id=items[1].pk,
                position=items[1].position,
                excerpt=items[1].excerpt,
                hidden=True,
                featured=False,
            ),
        ],
    )
    before = _snapshot(digest)
    assert (before[-1][0], before[-1][1], before[-1][3]) == (items[0].answer_id, 9, "Shortened.")
    told = len(_drafted_mails())
    assert told == 1
    # the close again: done already
    with django_capture_on_commit_callbacks(execute=True):
        weekly.week_close(community=w.community, week=W45)
    # the step called again
    with django_capture_on_commit_callbacks(execute=True):
        again = weekly.digest_draft(community=w.community, week=W45)
    assert again.pk == digest.pk
    # the pipeline's step run again (as a resume would)
    WeekPipeline.objects.filter(community=w.community, week=W45).update(
        state=WeekPipeline.State.FAILED
    )
    WeekPipelineStep.objects.filter(pipeline__community=w.community, step="digest_draft").update(
        state=WeekPipelineStep.State.PENDING
    )
    with django_capture_on_commit_callbacks(execute=True):
        weekly.week_close(community=w.community, week=W45)
    assert (
        WeekPipelineStep.objects.get(pipeline__community=w.community, step="digest_draft").attempts
        == 2
    )
    assert Digest.objects.filter(community=w.community).count() == 1
    digest.refresh_from_db()
    assert digest.summary == "Curated summary."
    assert digest.state == Digest.State.DRAFT
    assert _snapshot(digest) == before
    assert len(_drafted_mails()) == told  # nobody told twice


def test_the_weeks_moderator_is_told_once_that_the_draft_waits(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = closed_world(time_machine, django_capture_on_commit_callbacks)
    [told] = _drafted_mails()
    assert told.to == [w.moderator.user.email]
    assert LABEL in told.subject
    assert f"http://127.0.0.1:8000/c/{w.slug}/digests/{LABEL}/curate/" in told.body
    digest = w.digest()
    assert digest.moderator_told_at is not None
    # the task again (a retry): nothing more
    assert digest_services.draft_tell_moderator(digest.pk) is False
    assert len(_drafted_mails()) == 1
    assert not any(w.organiser.user.email in m.to for m in _drafted_mails())


def test_without_a_moderator_on_shift_the_draft_has_none_and_nobody_is_told(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    community, people = funded_community(time_machine, members=12, slug="no-rota")
    questions_with_answers(community, people, questions=1, answers=2)
    time_machine.move_to(AFTER_W45)
    with django_capture_on_commit_callbacks(execute=True):
        weekly.week_close(community=community, week=W45)
    digest = Digest.objects.get(community=community, week=W45)
    assert digest.moderator_id is None
    # the close fixed an empty shift: KPIs without a moderator or pay
    assert Shift.objects.get(community=community, week=W45).moderator_id is None
    assert digest.content["kpis"]["answers"] == 2
    assert digest.content["kpis"]["pay"] is None
    assert digest.items.count() == 2
    assert _drafted_mails() == []
    # organisers curate it still
    digest_services.digest_curate(digest=digest, editor=organiser_of(community), summary="Hi.")
    assert Digest.objects.get(pk=digest.pk).summary == "Hi."


def test_each_community_gets_its_own_draft(
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = world(time_machine)
    other, people = funded_community(time_machine, members=8, slug="other-one")
    questions_with_answers(other, people, questions=1, answers=1)
    time_machine.move_to(AFTER_W45)
    close(w, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        weekly.week_close(community=other, week=W45)
    mine, theirs = w.digest(), Digest.objects.get(community=other)
    assert {i.answer.question.community_id for i in mine.items.all()} == {w.community.pk}
    assert {i.answer.question.community_id for i in theirs.items.all()} == {other.pk}
    assert theirs.items.count() == 1
    assert Community.objects.count() == 2
