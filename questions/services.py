"""Every write to briefs, sessions, answers, discussion and ratings.

Keyword-only services that validate, lock what they read-to-write, write, and queue
notifications on commit. They raise ``ValidationError`` naming the field; nothing is written
then.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from members import search, weeks
from members import selectors as member_selectors
from members import services as member_services
from members.models import Community, Membership, Tag, User
from questions import access, attachments, lifecycle, markdown
from questions.models import (
    Answer,
    AnswerRevision,
    Attachment,
    Comment,
    Invitation,
    Notification,
    Question,
    Rating,
    WeekSession,
)
from questions.notifications import notify

State = Question.State
MAX_NEEDS = 10


# --- Briefs ------------------------------------------------------------------------------------


def _text(value: object, field: str, *, required: bool, max_length: int) -> str:
    """Clean text input: trimmed, line endings as ``\n`` (browsers send ``\r\n``)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ValidationError({field: _("Enter text.")}, code="invalid")
    if "\x00" in text:
        raise ValidationError({field: _("Null characters are not allowed.")}, code="null")
    if required and not text:
        raise ValidationError({field: _("This field is required.")}, code="required")
    if len(text) > max_length:
        raise ValidationError(
            {field: _("At most %(max)d characters.") % {"max": max_length}}, code="max_length"
        )
    return text


def _needs(community: Community, names: object) -> list[Tag]:
    if names is None:
        return []
    if isinstance(names, str):
        names = names.replace("，", ",").split(",")
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValidationError({"needs": _("Give a list of skill names.")}, code="invalid")
    if len(names) > MAX_NEEDS:
        raise ValidationError(
            {"needs": _("At most %(max)d tags.") % {"max": MAX_NEEDS}}, code="max_tags"
        )
    return member_selectors.tags_by_names(
        community=community, kind=Tag.Kind.SKILL, names=list(names), field_name="needs"
    )


def _too_late(
    community: Community,
    week: datetime.date,
    field: str,
    submitted_at: datetime.datetime | None = None,
) -> ValidationError:
    """The error for a brief too late for ``week``, naming the first week a brief submitted at
    ``submitted_at`` (default now) can go into."""
    deadline = weeks.brief_deadline(community, week)  # in the community's time zone
    nxt = weeks.first_week_for_brief(community, submitted_at)
    return ValidationError(
        {
            field: _(
                "Too late for %(week)s: briefs for it had to be in by %(deadline)s "
                "(%(days)d days ahead). The next possible week is %(next)s."
            )
            % {
                "week": weeks.label(week),
                "deadline": date_format(deadline, "Y-m-d H:i"),
                "days": community.brief_lead_days,
                "next": weeks.label(nxt),
            }
        },
        code="too_late",
    )


def _check_attachment(attachment: Attachment | None, author: Membership) -> None:
    if attachment is not None and (
        attachment.community_id != author.community_id or attachment.uploaded_by_id != author.pk
    ):
        raise ValidationError({"attachment": _("Attach a file you uploaded here.")}, code="invalid")


def _question_document(question: Question, needs: Iterable[Tag]) -> str:
    needs = list(needs)
    facets = [search.facet("t", tag.pk) for tag in needs]
    return search.document(
        question.title,
        markdown.plain_text(question.background),
        markdown.plain_text(question.wanted),
        *(tag.name for tag in needs),
        facets=facets,
    )


def question_create(
    *,
    author: Membership,
    title: object,
    background: object,
    wanted: object,
    needs: object = None,
    preferred_week: datetime.date | None = None,
    attachment: Attachment | None = None,
    submit: bool = True,
) -> Question:
    """Write a brief (a draft, or submitted for scheduling). Call as an active member."""
    community = author.community
    question = Question(
        community=community,
        asker=author,
        title=_text(title, "title", required=True, max_length=200),
        background=_text(background, "background", required=True, max_length=20000),
        wanted=_text(wanted, "wanted", required=True, max_length=5000),
        preferred_week=preferred_week,
        attachment=attachment,
    )
    tags = _needs(community, needs)
    _check_attachment(attachment, author)
    if preferred_week is not None:
        _check_preferred_week(community, preferred_week)
    if submit:
        question.state, question.submitted_at = State.SUBMITTED, timezone.now()
    question.background_html = markdown.render(question.background)
    question.wanted_html = markdown.render(question.wanted)
    question.search_document = _question_document(question, tags)
    with transaction.atomic():
        question.save()
        question.needs.set(tags)
    return question


def _check_preferred_week(community: Community, week: datetime.date) -> None:
    if not weeks.is_week_start(community, week):
        raise ValidationError({"preferred_week": _("Choose a week.")}, code="invalid")
    if weeks.brief_deadline(community, week) < timezone.now():
        raise _too_late(community, week, "preferred_week")


def question_update(*, author: Membership, question: Question, changes: dict[str, Any]) -> Question:
    """The asker edits a brief until it is scheduled; ``submit`` in changes submits a draft."""
    allowed = {"title", "background", "wanted", "needs", "preferred_week", "attachment", "submit"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({f: _("This field cannot be changed.") for f in sorted(unknown)})
    with transaction.atomic():
        locked = Question.objects.select_for_update().get(pk=question.pk)
        if locked.asker_id != author.pk:
            raise ValidationError(_("Only the person who asked can change this brief."))
        if locked.state not in (State.DRAFT, State.SUBMITTED):
            raise ValidationError(
                {"state": _("A scheduled brief can no longer be changed.")}, code="published"
            )
        for name, limit in (("title", 200), ("background", 20000), ("wanted", 5000)):
            if name in changes:
                setattr(locked, name, _text(changes[name], name, required=True, max_length=limit))
        tags = _needs(locked.community, changes["needs"]) if "needs" in changes else None
        if "preferred_week" in changes:
            locked.preferred_week = changes["preferred_week"]
            if locked.preferred_week is not None:
                _check_preferred_week(locked.community, locked.preferred_week)
        if "attachment" in changes:
            _check_attachment(changes["attachment"], author)
            locked.attachment = changes["attachment"]
        if changes.get("submit") and locked.state == State.DRAFT:
            locked.state, locked.submitted_at = State.SUBMITTED, timezone.now()
        locked.background_html = markdown.render(locked.background)
        locked.wanted_html = markdown.render(locked.wanted)
        if tags is not None:
            locked.needs.set(tags)
        locked.search_document = _question_document(locked, locked.needs.all())
        locked.save()
    return locked


def question_schedule(
    *, moderator: Membership, question: Question, week: datetime.date
) -> Question:
    """Put a submitted brief into a week's session: it is published, its asker told.

    The brief must have been submitted at least the community's lead time before that week.
    """
    community = question.community
    if not weeks.is_week_start(community, week):
        raise ValidationError({"week": _("Choose a week.")}, code="invalid")
    now = timezone.now()
    if weeks.ends_at(community, week) <= now:
        raise ValidationError({"week": _("That week is over.")}, code="past")
    with transaction.atomic():
        locked = (
            Question.objects.select_for_update().select_related("asker__user").get(pk=question.pk)
        )
        if locked.state != State.SUBMITTED:
            raise ValidationError(
                {"state": _("Only submitted briefs can be scheduled.")}, code="state"
            )
        assert locked.submitted_at is not None  # noqa: S101 - a database constraint
        if locked.submitted_at > weeks.brief_deadline(community, week):
            raise _too_late(community, week, "week", locked.submitted_at)
        session, _created = WeekSession.objects.get_or_create(community=community, week=week)
        locked.session = session
        locked.state = State.OPEN if weeks.begins_at(community, week) <= now else State.SCHEDULED
        locked.scheduled_at, locked.scheduled_by = now, moderator
        locked.save()
        notify(recipient=locked.asker.user, kind=Notification.Kind.BRIEF_SCHEDULED, question=locked)
    return locked


def question_set_challenge(
    *, moderator: Membership, question: Question, is_challenge: bool
) -> Question:
    """Mark (or unmark) a question as a challenge, readable by visitors through its link."""
    Question.objects.filter(pk=question.pk).update(
        is_challenge=bool(is_challenge), updated_at=timezone.now()
    )
    question.is_challenge = bool(is_challenge)
    return question


def sessions_advance(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Bring stored states in line with time (questions.lifecycle): open the questions whose
    week has begun and close those whose week has ended. Idempotent; returns (opened,
    closed). A beat job runs it every few minutes; the weekly close closes its own week's."""
    now = now or timezone.now()
    opened = closed = 0
    live = (
        Question.objects.filter(state__in=[State.SCHEDULED, State.OPEN])
        .select_related("session", "community")
        .only(
            "pk",
            "state",
            "session__week",
            "community__time_zone",
            "community__week_start",
            "community__voting_opens_weekday",
            "community__voting_opens_time",
        )
    )
    to_open, to_close = [], []
    for question in live.iterator(chunk_size=500):
        phase = lifecycle.question_phase(question, now)
        if phase == lifecycle.Phase.CLOSED:
            to_close.append(question.pk)
        elif question.state == State.SCHEDULED and phase != lifecycle.Phase.SCHEDULED:
            to_open.append(question.pk)
    if to_open:
        opened = Question.objects.filter(pk__in=to_open, state=State.SCHEDULED).update(
            state=State.OPEN, updated_at=now
        )
    if to_close:
        closed = Question.objects.filter(
            pk__in=to_close, state__in=[State.SCHEDULED, State.OPEN]
        ).update(state=State.CLOSED, updated_at=now)
    return opened, closed


def week_questions_close(*, community: Community, week: datetime.date) -> int:
    """The weekly close's first step: every question of the (ended) week is closed. Idempotent;
    returns how many changed."""
    if not lifecycle.has_ended(community, week):
        raise ValidationError({"week": _("That week has not ended yet.")}, code="not_ended")
    return Question.objects.filter(
        community=community,
        session__week=week,
        state__in=[State.SCHEDULED, State.OPEN],
    ).update(state=State.CLOSED, updated_at=timezone.now())


def session_announce(
    *, moderator: Membership, community: Community, week: datetime.date, text: object
) -> WeekSession:
    """The moderator's warm-up announcement for a week's session."""
    if not weeks.is_week_start(community, week):
        raise ValidationError({"week": _("Choose a week.")}, code="invalid")
    body = _text(text, "announcement", required=False, max_length=5000)
    session, _created = WeekSession.objects.get_or_create(community=community, week=week)
    session.announcement, session.announcement_html = body, markdown.render(body)
    session.save(update_fields=["announcement", "announcement_html"])
    return session


# --- Finding answerers ---------------------------------------------------------------------------


def invitations_create(
    *, moderator: Membership, question: Question, invitees: Sequence[int]
) -> list[Invitation]:
    """Invite members to answer; each new invitee is notified (re-inviting does nothing)."""
    if not question.is_published:
        raise ValidationError(
            {"question": _("Invite answerers once the question is scheduled.")}, code="state"
        )
    if lifecycle.is_closed(question):
        raise ValidationError({"question": _("This question is closed.")}, code="closed")
    ids = sorted({int(i) for i in invitees})
    if not ids:
        raise ValidationError({"members": _("Choose at least one member.")}, code="required")
    members = list(
        Membership.objects.select_related("user").filter(
            pk__in=ids,
            community_id=question.community_id,
            status=Membership.Status.ACTIVE,
            role__in=access.READER_ROLES,
        )
    )
    if len(members) != len(ids):
        raise ValidationError(
            {"members": _("Invite active members of this community.")}, code="invalid"
        )
    created = []
    with transaction.atomic():
        for member in members:
            invitation, new = Invitation.objects.get_or_create(
                question=question, invitee=member, defaults={"invited_by": moderator}
            )
            if new:
                created.append(invitation)
                notify(recipient=member.user, kind=Notification.Kind.INVITED, question=question)
    return created


# --- Answers -------------------------------------------------------------------------------------


def _check_answerable(question: Question) -> None:
    phase = lifecycle.question_phase(question)
    if phase in (lifecycle.Phase.DRAFT, lifecycle.Phase.SUBMITTED):
        raise ValidationError(_("This question is not published yet."), code="not_published")
    if phase == lifecycle.Phase.CLOSED:
        raise ValidationError(
            {"body": _("Voting on this question has closed; answers can no longer change.")},
            code="closed",
        )


def _answer_document(body: str) -> str:
    return search.document(markdown.plain_text(body))


def answer_create(
    *, author: Membership, question: Question, body: object, attachment: Attachment | None = None
) -> Answer:
    """Write an answer: members on any published question, candidates on challenges."""
    if not (access.is_writer(author) or (access.is_candidate(author) and question.is_challenge)):
        raise ValidationError(_("Only active members can answer."), code="forbidden")
    _check_answerable(question)
    text = _text(body, "body", required=True, max_length=100_000)
    _check_attachment(attachment, author)
    answer = Answer(
        question=question,
        author=author,
        body=text,
        body_html=markdown.render(text),
        attachment=attachment,
        search_document=_answer_document(text),
    )
    try:
        with transaction.atomic():
            answer.save()
            AnswerRevision.objects.create(answer=answer, number=1, body=text)
            attachments.images_link(answer=answer)  # its readers may now see its images
            if question.asker_id != author.pk:
                notify(
                    recipient=question.asker.user,
                    kind=Notification.Kind.NEW_ANSWER,
                    question=question,
                    answer=answer,
                )
    except IntegrityError:
        raise ValidationError(
            {"body": _("You have already answered this question; revise your answer instead.")},
            code="duplicate",
        ) from None
    return answer


def challenge_answer_create(*, user: User, question: Question, body: object) -> Answer:
    """A visitor (signed up) answers a challenge question and becomes a candidate."""
    if not (question.is_challenge and question.is_published):
        raise ValidationError(_("Only challenge questions are open to visitors."), code="forbidden")
    _check_answerable(question)
    _text(body, "body", required=True, max_length=100_000)
    with transaction.atomic():
        membership = member_services.candidate_enrol(user=user, community=question.community)
        return answer_create(author=membership, question=question, body=body)


def answer_revise(
    *, author: Membership, answer: Answer, body: object, attachment: Attachment | None = None
) -> Answer:
    """The author revises their answer until voting closes; every version is kept. A new
    ``attachment`` replaces the old one; without one the old one stays."""
    text = _text(body, "body", required=True, max_length=100_000)
    with transaction.atomic():
        locked = (
            Answer.objects.select_for_update(of=("self",))
            .select_related("question__community", "question__session")
            .get(pk=answer.pk)
        )
        if locked.author_id != author.pk:
            raise ValidationError(_("Only the author can revise an answer."), code="forbidden")
        # A lapsed (or departed) member reads but no longer writes, their answer included.
        if not (
            access.is_writer(author)
            or (access.is_candidate(author) and locked.question.is_challenge)
        ):
            raise ValidationError(_("Only active members can answer."), code="forbidden")
        _check_answerable(locked.question)
        changed = False
        if attachment is not None:
            _check_attachment(attachment, author)
            changed, locked.attachment = True, attachment
        if text != locked.body:
            locked.revision += 1
            locked.body, locked.body_html = text, markdown.render(text)
            locked.search_document = _answer_document(text)
            AnswerRevision.objects.create(answer=locked, number=locked.revision, body=text)
            changed = True
        if changed:
            locked.save()
            attachments.images_link(answer=locked)  # the images the new text shows
    return locked


# --- Discussion ----------------------------------------------------------------------------------


def _discussion_changed(answer_id: int) -> None:
    """A comment under the answer was written, edited or removed: a new version of its
    discussion (the key of its cached HTML, questions.fragments), in the same transaction."""
    Answer.objects.filter(pk=answer_id).update(discussion_version=F("discussion_version") + 1)


def comment_create(
    *, author: Membership, answer: Answer, body: object, parent: Comment | None = None
) -> Comment:
    """Comment on an answer, or reply to a comment (one level deep)."""
    if not access.is_writer(author) or author.community_id != answer.question.community_id:
        raise ValidationError(_("Only active members can comment."), code="forbidden")
    text = _text(body, "body", required=True, max_length=5000)
    if parent is not None:
        if parent.answer_id != answer.pk:
            raise ValidationError({"parent": _("Reply to a comment on this answer.")})
        if parent.parent_id is not None:
            parent = parent.parent  # replies stay one level deep: join the thread
        if parent is not None and parent.is_removed:
            raise ValidationError({"parent": _("That comment was removed.")}, code="removed")
    with transaction.atomic():
        comment = Comment.objects.create(
            answer=answer, author=author, parent=parent, body=text, body_html=markdown.render(text)
        )
        _discussion_changed(answer.pk)
        if answer.author_id != author.pk:
            notify(
                recipient=answer.author.user,
                kind=Notification.Kind.NEW_COMMENT,
                question=answer.question,
                answer=answer,
                comment=comment,
            )
    return comment


def comment_edit(*, author: Membership, comment: Comment, body: object) -> Comment:
    """The author edits a comment within the edit window."""
    text = _text(body, "body", required=True, max_length=5000)
    window = datetime.timedelta(minutes=settings.COMMENT_EDIT_WINDOW_MINUTES)
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        # Who may edit is a permission (403), not a problem with the input (400).
        if locked.author_id != author.pk:
            raise PermissionDenied(_("Only the author can edit a comment."))
        if not access.is_writer(author):
            raise PermissionDenied(_("Only active members can comment."))
        if locked.is_removed:
            raise ValidationError({"body": _("This comment was removed.")}, code="removed")
        if timezone.now() - locked.created_at > window:
            raise ValidationError(
                {
                    "body": _("Comments can be edited for %(minutes)d minutes after posting.")
                    % {"minutes": settings.COMMENT_EDIT_WINDOW_MINUTES}
                },
                code="too_late",
            )
        locked.body, locked.body_html, locked.edited_at = (
            text,
            markdown.render(text),
            timezone.now(),
        )
        locked.save(update_fields=["body", "body_html", "edited_at"])
        _discussion_changed(locked.answer_id)
    return locked


def comment_remove(*, moderator: Membership, comment: Comment, reason: object) -> Comment:
    """A moderator removes a comment; the reason is kept with it (and the text, for review)."""
    if not access.may_remove_comment(moderator):
        raise ValidationError(_("Only moderators and organisers can remove comments."))
    text = _text(reason, "reason", required=True, max_length=500)
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        if locked.is_removed:
            return locked
        locked.removed_at, locked.removed_by, locked.removal_reason = (
            timezone.now(),
            moderator,
            text,
        )
        locked.save(update_fields=["removed_at", "removed_by", "removal_reason"])
        _discussion_changed(locked.answer_id)
    return locked


# --- Ratings -------------------------------------------------------------------------------------


def rating_set(*, rater: Membership, answer: Answer, stars: object) -> Rating:
    """Rate an answer 1–5 (again to change it); not one's own."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationError({"stars": _("Give 1 to 5 stars.")}, code="invalid")
    if not access.is_writer(rater) or rater.community_id != answer.question.community_id:
        raise ValidationError(_("Only active members can rate answers."), code="forbidden")
    if answer.author_id == rater.pk:
        raise ValidationError({"stars": _("You cannot rate your own answer.")}, code="own")
    for _attempt in range(2):
        try:
            with transaction.atomic():
                rating, _created = Rating.objects.update_or_create(
                    answer=answer, rater=rater, defaults={"stars": stars}
                )
                return rating
        except IntegrityError:
            continue  # a concurrent first rating by the same person: update it instead
    raise ValidationError({"stars": _("Please try again.")}, code="conflict")
