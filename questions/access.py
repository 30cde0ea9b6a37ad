"""Who may read and write questions, answers and comments (Zulip-style ``access_*``).

- Members (active, or lapsed and read-only) read published questions and all their answers;
  an asker also sees their own drafts and submitted briefs; those with moderator powers
  (moderators, organisers, and the member on duty this week: members.access) see every
  submitted brief too.
- Challenge questions, once published, are readable by anyone through their link. Visitors and
  candidates see the brief and only their own answer; members see everything as usual.
- Unknown question → 404; a question of a community the person is not in → 403.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from members import access as member_access
from members.access import READER_ROLES as READER_ROLES  # re-exported: the rules' one home
from members.access import AnyUser
from members.access import has_moderator_powers as has_moderator_powers
from members.access import is_candidate as is_candidate
from members.access import is_reader as is_reader
from members.access import is_writer as is_writer
from members.models import Membership
from questions import lifecycle
from questions.models import Answer, Attachment, Comment, Question

Role = Membership.Role
State = Question.State
# A brief changes (questions.services.question_update) until a moderator schedules it.
EDITABLE_BRIEF_STATES = (State.DRAFT, State.SUBMITTED)


# --- What a viewer may do with a question, answer or comment ----------------------------------
# The services enforce these (or their parts that need a lock); the pages and the API show
# their buttons from the same functions (questions.selectors.QuestionPage's can_* flags).


def may_ask(viewer: Membership | None) -> bool:
    """Write a new brief: an active member, moderator or organiser (not a lapsed one)."""
    return is_writer(viewer)


def may_change_own_brief(viewer: Membership | None, question: Question) -> bool:
    """The asker, while they write (active)."""
    return viewer is not None and question.asker_id == viewer.pk and is_writer(viewer)


def may_edit_brief(viewer: Membership | None, question: Question) -> bool:
    """The asker may still change the brief: it is a draft or waits to be scheduled."""
    return may_change_own_brief(viewer, question) and question.state in EDITABLE_BRIEF_STATES


def may_schedule(viewer: Membership | None, question: Question) -> bool:
    return has_moderator_powers(viewer) and question.state == State.SUBMITTED


def may_mark_challenge(viewer: Membership | None, question: Question) -> bool:
    return has_moderator_powers(viewer) and question.is_published


def may_invite(viewer: Membership | None, question: Question) -> bool:
    """Find answerers for a published question that is not closed yet."""
    return (
        has_moderator_powers(viewer) and question.is_published and not lifecycle.is_closed(question)
    )


def may_rate(viewer: Membership | None, answer: Answer) -> bool:
    """Rate (and tip, rewards.checkout.check_tip) an answer: an active member of its
    community, not its author. ``answer.question`` is read: have it loaded."""
    return (
        is_writer(viewer)
        and viewer is not None
        and answer.author_id != viewer.pk
        and viewer.community_id == answer.question.community_id
    )


def may_comment(viewer: Membership | None) -> bool:
    """Comment on the answers of a question the viewer reads: an active member."""
    return is_writer(viewer)


def editable_comments(viewer: Membership | None, now: datetime.datetime | None = None) -> Q:
    """``may_edit_comment`` as a filter: the viewer's comments they may still edit."""
    if viewer is None or not is_writer(viewer):
        return Q(pk__in=[])
    window = datetime.timedelta(minutes=settings.COMMENT_EDIT_WINDOW_MINUTES)
    return Q(
        author=viewer, removed_at__isnull=True, created_at__gte=(now or timezone.now()) - window
    )


def may_edit_comment(
    viewer: Membership | None, comment: Comment, now: datetime.datetime | None = None
) -> bool:
    """Its author, while active, within the edit window, unless it was removed."""
    window = datetime.timedelta(minutes=settings.COMMENT_EDIT_WINDOW_MINUTES)
    return (
        viewer is not None
        and comment.author_id == viewer.pk
        and is_writer(viewer)
        and not comment.is_removed
        and (now or timezone.now()) - comment.created_at <= window
    )


def may_remove_comment(viewer: Membership | None) -> bool:
    return has_moderator_powers(viewer)


# Search documents (long tsvectors) are for the search index: a page never shows them, and
# loading them costs more than the rest of the row.
_SEARCH_DOCUMENTS = ("search_document",)
_PROFILE_DOCUMENTS = ("search_document", "full_search_document")


def _viewer(user: AnyUser, community_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("community")
        .filter(user_id=user.pk, community_id=community_id)
        .first()
    )


def may_read_question(viewer: Membership | None, question: Question) -> bool:
    if question.is_published and question.is_challenge:
        return True
    if viewer is None:
        return False
    if question.is_published:
        return is_reader(viewer)
    if question.asker_id == viewer.pk:
        return True
    return question.state == State.SUBMITTED and has_moderator_powers(viewer)


def sees_all_answers(viewer: Membership | None) -> bool:
    return is_reader(viewer)


def access_question(
    *, user: AnyUser, question_id: int, slug: str | None = None
) -> tuple[Membership | None, Question]:
    """A question for a reader; raises 404 / 403. Returns the viewer's membership (or None
    for a visitor on a challenge question)."""
    question = (
        Question.objects.select_related("community", "session", "asker__profile", "attachment")
        .defer(*_SEARCH_DOCUMENTS, *(f"asker__profile__{d}" for d in _PROFILE_DOCUMENTS))
        .filter(pk=question_id)
        .first()
    )
    if question is None or (slug is not None and question.community.slug != slug):
        raise Http404(_("No such question."))
    viewer = _viewer(user, question.community_id)
    if not may_read_question(viewer, question):
        if viewer is None or viewer.role == Role.CANDIDATE:
            raise PermissionDenied(_("Only members of this community can read this question."))
        raise Http404(_("No such question."))
    return viewer, question


def access_question_list(*, user: AnyUser, slug: str) -> Membership:
    """Members (all published questions) and candidates (challenge questions only)."""
    return member_access.access_as(
        user=user,
        slug=slug,
        rule=member_access.is_participant,
        message=_("Only members of this community can see its questions."),
    )


def access_brief_write(*, user: AnyUser, slug: str) -> Membership:
    """Writing a new brief: active members, moderators and organisers."""
    return member_access.access_as(
        user=user,
        slug=slug,
        rule=may_ask,
        message=_("Only active members can ask questions."),
    )


def access_own_brief(
    *, user: AnyUser, question_id: int, slug: str | None = None
) -> tuple[Membership, Question]:
    viewer, question = access_question(user=user, question_id=question_id, slug=slug)
    if not may_change_own_brief(viewer, question):
        raise PermissionDenied(_("Only the person who asked can change this brief."))
    assert viewer is not None  # noqa: S101 - narrowed by may_change_own_brief
    return viewer, question


def access_question_moderation(
    *, user: AnyUser, question_id: int, slug: str | None = None
) -> tuple[Membership, Question]:
    viewer, question = access_question(user=user, question_id=question_id, slug=slug)
    if not has_moderator_powers(viewer):
        raise PermissionDenied(_("Only moderators and organisers can do this."))
    assert viewer is not None  # noqa: S101 - narrowed by has_moderator_powers
    return viewer, question


def access_answer(
    *, user: AnyUser, answer_id: int, slug: str | None = None
) -> tuple[Membership | None, Answer]:
    """An answer for someone who may read it: members; its author (candidates included).
    With ``slug`` (a portal address), an answer of another community is 404."""
    answer = (
        Answer.objects.select_related("question__community", "author__profile", "attachment")
        .defer(
            *_SEARCH_DOCUMENTS,
            "question__search_document",
            *(f"author__profile__{d}" for d in _PROFILE_DOCUMENTS),
        )
        .filter(pk=answer_id)
        .first()
    )
    if answer is None or (slug is not None and answer.question.community.slug != slug):
        raise Http404(_("No such answer."))
    viewer, _question = access_question(user=user, question_id=answer.question_id)
    if not sees_all_answers(viewer) and (viewer is None or answer.author_id != viewer.pk):
        raise PermissionDenied(_("Only members of this community can read its answers."))
    return viewer, answer


def access_comment(
    *, user: AnyUser, comment_id: int, slug: str | None = None
) -> tuple[Membership, Comment]:
    comment = (
        Comment.objects.select_related("answer__question__community", "author__profile")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        raise Http404(_("No such comment."))
    viewer, _answer = access_answer(user=user, answer_id=comment.answer_id, slug=slug)
    if viewer is None:
        raise PermissionDenied(_("Only members of this community can do this."))
    return viewer, comment


def access_attachment(*, user: AnyUser, attachment_id: uuid.UUID) -> Attachment:
    """An attachment, for whoever may read the question or answer it belongs to."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404(_("No such file."))
    question = Question.objects.filter(attachment=attachment).only("pk").first()
    if question is not None:
        access_question(user=user, question_id=question.pk)
        return attachment
    answer = Answer.objects.filter(attachment=attachment).only("pk").first()
    if answer is not None:
        access_answer(user=user, answer_id=answer.pk)
        return attachment
    if attachment.shown_in_id is not None:  # an image in an answer's body
        access_answer(user=user, answer_id=attachment.shown_in_id)
        return attachment
    # Not yet attached to anything: only its uploader.
    viewer = _viewer(user, attachment.community_id)
    if viewer is None or viewer.pk != attachment.uploaded_by_id:
        raise Http404(_("No such file."))
    return attachment


def access_answer_vote(
    *, user: AnyUser, answer_id: int, slug: str | None = None
) -> tuple[Membership, Answer]:
    """An answer to vote on, for someone of its community: members (who vote), and
    candidates and lapsed members (whose votes the service refuses, saying why)."""
    answer = (
        Answer.objects.select_related("question__community", "question__session")
        .filter(pk=answer_id)
        .first()
    )
    if answer is None or (slug is not None and answer.question.community.slug != slug):
        raise Http404(_("No such answer."))
    viewer = _viewer(user, answer.question.community_id)
    if viewer is None or not (is_reader(viewer) or is_candidate(viewer)):
        raise PermissionDenied(_("Only members of this community can vote."))
    if not answer.question.is_published:
        raise Http404(_("No such answer."))
    return viewer, answer


def access_ballot(*, user: AnyUser, slug: str) -> Membership:
    """A week's ballot: members (active, or lapsed and read-only)."""
    return member_access.access_as(
        user=user,
        slug=slug,
        rule=is_reader,
        message=_("Only members of this community can see its ballot."),
    )
