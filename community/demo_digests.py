"""The demo's weekly digests for "product-circle" (SPEC §2.7).

The week close drafts a digest for every past week (community/demo_weekly.py closes them).
Each closed week but the last is curated and published by its moderator (an organiser where
the week had none) the day after it closed, on time: a summary in Chinese and English built
from the week's questions and top answers, the top answer of each question marked featured
(精华). The last closed week's draft is left waiting, for its moderator and the organisers to
curate in the console (/c/product-circle/duty/<week>/) and publish.

No e-mail leaves the demo: the moderators' "your draft waits" notices are marked told, and
the published digests' deliveries are marked queued before the transaction commits, so the
delivery job finds nobody to send to. Idempotent: a published digest is left as it is.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from members import weeks
from members.models import Community, Membership
from questions.digests import selectors, services
from questions.models import Digest
from rotation import services as rotation

WEEK = datetime.timedelta(days=7)


def _summary(digest: Digest) -> str:
    view = selectors.digest_view(digest=digest, viewer=None)
    lines = [
        "## 本周要点 · This week in brief",
        "",
        f"本周共有 {len(view.sections)} 个问题、"
        f"{sum(len(s.items) for s in view.sections)} 篇回答。以下是值得带走的结论。",
        f"{len(view.sections)} questions and "
        f"{sum(len(s.items) for s in view.sections)} answers this week; here is what to take away.",
        "",
    ]
    for section in view.sections:
        if not section.items:
            continue
        top = section.items[0]
        first = top.item.excerpt.split("。")[0].split(". ")[0].strip(" …")
        lines.append(f"- **{section.question.title}** — {top.author}：{first}。")
    lines += [
        "",
        "> 讨论里反复出现的一点：先把问题拆小，再找数据验证，别急着下结论。",
        "> A point that came up again and again: split the problem, check it against data, "
        "and only then decide.",
    ]
    return "\n".join(lines)


def load(*, community: Community, organiser: Membership) -> None:
    """Curate and publish every closed week's digest but the last (see the docstring). Call
    inside the demo's transaction, after the weeks are closed."""
    now = timezone.now()
    drafts = list(
        Digest.objects.filter(community=community).select_related("community").order_by("week")
    )
    Digest.objects.filter(community=community, moderator_told_at__isnull=True).update(
        moderator_told_at=now
    )
    for digest in drafts[:-1]:
        if digest.is_published:
            continue
        publisher = digest.moderator or organiser
        if publisher.status != Membership.Status.ACTIVE:
            publisher = organiser
        items = list(digest.items.select_related("answer").order_by("position"))
        tops: set[int] = set()
        changes = []
        for item in items:
            first_of_question = item.answer.question_id not in tops
            tops.add(item.answer.question_id)
            changes.append(
                services.ItemChange(
                    item_id=item.pk,
                    position=item.position,
                    excerpt=item.excerpt,
                    hidden=False,
                    featured=first_of_question and item.votes > 0,
                )
            )
        published_at = weeks.ends_at(community, digest.week) + datetime.timedelta(days=1, hours=2)
        services.digest_curate(
            digest=digest, editor=publisher, summary=_summary(digest), items=changes
        )
        Digest.objects.filter(pk=digest.pk).update(deliveries_queued_at=published_at)
        digest.refresh_from_db()
        services.digest_publish(digest=digest, publisher=publisher, now=published_at)
    rotation.shifts_digest_record(community=community, now=now)
