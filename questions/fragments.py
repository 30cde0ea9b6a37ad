"""Rendered HTML of the question page's answers, kept in the cache (Redis) and rendered once.

Two fragments per answer:

- the **card**: who wrote it, when, its revision, rating and (once the week is closed) votes,
  the body and the attachment link;
- the **discussion**: its first comments (or all of them, on the discussion page) with the
  reply, remove and comment forms the viewer's class may use.

What is the viewer's own is never in a shared fragment: the vote, rating and tip controls are
rendered around the card for every request; a discussion under which the viewer has a comment
they may still edit (its edit button is theirs alone) is rendered for them and not stored; and
a form's CSRF token is a placeholder in the stored HTML, replaced with the request's token as
it is served.

A key is a digest of everything the HTML shows or depends on, so a change makes a new key and
the old HTML is simply never read again (it expires): the card's answer revision and update
time, featured mark, rating count and average, votes, author's handle and attachment; the
discussion's comment count, its version (``Answer.discussion_version``, raised in the same
transaction as any comment written, edited or removed), and when any handle in the community
last changed; for both the language, the community's time zone and address, and the viewer's
class — what the privacy module says they see of profiles (members.privacy.audience) and what
they may do (comment, remove comments). The cache being down only costs the rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from members import cached, privacy
from members.models import Community, Membership
from questions.selectors import AnswerView, load_bodies, load_threads

# Bump when the fragments' templates change shape, so no old HTML is served after a deploy.
VERSION = 2


@dataclass(frozen=True)
class Controls:
    """What the discussion's forms need to know of the viewer (the template's ``page``)."""

    can_comment: bool
    can_remove_comments: bool
    editable_comments: frozenset[int] = frozenset()


@dataclass
class Rendered:
    card: SafeString
    discussion: SafeString


def _key(kind: str, parts: Sequence[object]) -> str:
    return cached.key(kind, parts, version=VERSION)


def _viewer_parts(viewer: Membership | None, community: Community) -> tuple[object, ...]:
    return (
        translation.get_language(),
        community.time_zone,  # times are shown in the community's zone (base.html)
        community.slug,  # in the links
        privacy.audience(viewer=viewer, community=community),
    )


def card_key(view: AnswerView, viewer_parts: tuple[object, ...]) -> str:
    a = view.answer
    return _key(
        "card",
        (
            a.pk,
            a.revision,
            a.updated_at.isoformat(),
            a.featured,
            a.rating_count,  # type: ignore[attr-defined]
            str(a.rating_avg),  # type: ignore[attr-defined]
            view.votes,
            a.author.profile.handle,
            a.attachment_id,
            *viewer_parts,
        ),
    )


def discussion_key(
    view: AnswerView,
    viewer_parts: tuple[object, ...],
    *,
    community: Community,
    controls: Controls,
    limit: int | None,
) -> str:
    handles = community.handles_changed_at.isoformat() if community.handles_changed_at else None
    return _key(
        "discussion",
        (
            view.answer.pk,
            view.answer.discussion_version,
            view.comment_count,
            handles,
            limit,
            controls.can_comment,
            controls.can_remove_comments,
            *viewer_parts,
        ),
    )


def render_answers(
    request: HttpRequest,
    views: list[AnswerView],
    *,
    viewer: Membership | None,
    community: Community,
    controls: Controls,
    private: set[int] = frozenset(),  # type: ignore[assignment]
    limit: int | None,
    bodies: bool = True,
) -> dict[int, Rendered]:
    """The card and discussion HTML of each answer, by answer id: from the cache where it
    is there, else rendered (its comments loaded in one query for all that missed) and
    stored. ``private``: answers whose discussion is the viewer's own (rendered, not
    stored). ``bodies``: whether the views' answers carry their text (else it is read for
    the cards that are not cached). Edits the views for the answers it renders."""
    seconds = settings.FRAGMENT_CACHE_SECONDS
    parts = _viewer_parts(viewer, community)
    cards = {v.answer.pk: card_key(v, parts) for v in views}
    talks = {
        v.answer.pk: discussion_key(v, parts, community=community, controls=controls, limit=limit)
        for v in views
    }
    shared = [*cards.values(), *(k for pk, k in talks.items() if pk not in private)]
    found = cache.get_many(shared) if seconds else {}
    to_load = [v for v in views if v.answer.pk in private or talks[v.answer.pk] not in found]
    if not bodies:
        load_bodies([v for v in views if cards[v.answer.pk] not in found])
    editable = load_threads(to_load, viewer=viewer, limit=limit) if to_load else set()
    context = {"community": community, "csrf_token": cached.csrf_placeholder()}
    page = Controls(controls.can_comment, controls.can_remove_comments, frozenset(editable))
    store: dict[str, str] = {}
    html: dict[int, tuple[str, str]] = {}
    with timezone.override(community.time_zone):  # as base.html shows times
        for view in views:
            pk = view.answer.pk
            card = found.get(cards[pk])
            if card is None:
                card = store[cards[pk]] = render_to_string(
                    "questions/_answer_card.html", {**context, "view": view, "a": view.answer}
                )
            talk = None if pk in private else found.get(talks[pk])
            if talk is None:
                talk = render_to_string(
                    "questions/_discussion.html",
                    {**context, "view": view, "a": view.answer, "page": page},
                )
                if pk not in private:
                    store[talks[pk]] = talk
            html[pk] = (card, talk)
    if store and seconds:
        cache.set_many(store, seconds)
    token = get_token(request)
    return {
        pk: Rendered(
            mark_safe(card),  # noqa: S308 - rendered by our templates, user text escaped there
            mark_safe(cached.with_token(request, talk, token)),  # noqa: S308 - the same
        )
        for pk, (card, talk) in html.items()
    }
