"""REST API for questions (SPEC §5: briefs, one question with its answers, answers) and the
rest of what the portal does: scheduling, challenges, invitations, revisions, discussion,
ratings, attachments, notifications, the Markdown preview."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members import access as member_access
from members import weeks
from members.api import paginated, query_params
from members.models import Community, Membership
from members.pagination import FullPagination
from members.serializers import errors, page_of
from questions import access, attachments, lifecycle, markdown, selectors, services, votes
from questions.models import Attachment, Comment, Question, Vote
from questions.notifications import mark_read
from questions.serializers import (
    AnswerInputSerializer,
    AnswerOutputSerializer,
    AttachmentOutputSerializer,
    BallotSerializer,
    ChallengeSerializer,
    CommentEditSerializer,
    CommentInputSerializer,
    CommentOutputSerializer,
    InvitedSerializer,
    InviteSerializer,
    MarkedSerializer,
    NotificationListSerializer,
    PreviewOutputSerializer,
    PreviewSerializer,
    QuestionAnswerSerializer,
    QuestionDetailSerializer,
    QuestionInputSerializer,
    QuestionListItemSerializer,
    QuestionOutputSerializer,
    QuestionUpdateSerializer,
    RatingOutputSerializer,
    RatingSerializer,
    RemoveSerializer,
    RevisionSerializer,
    ScheduleSerializer,
    SessionOutputSerializer,
    VotesLeftSerializer,
    answer_data,
    attachment_data,
    comment_data,
    notification_data,
    question_data,
)


def _week(community: Community, value: str | None, field: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return weeks.parse(community, value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _attachment(viewer: Membership, value: Any) -> Attachment | None:
    if value is None:
        return None
    found = Attachment.objects.filter(pk=value, uploaded_by=viewer).first()
    if found is None:
        raise ValidationError({"attachment": _("Attach a file you uploaded here.")})
    return found


def _answer_items(request: Request, views: list[selectors.AnswerView]) -> list[dict[str, Any]]:
    """Answers with the comments loaded for them and what the caller may do with each."""
    return [
        {
            **answer_data(view.answer, comments=view.all_comments),
            "comment_count": view.comment_count,
            "comments_url": request.build_absolute_uri(
                reverse("api-comments", kwargs={"answer_id": view.answer.pk})
            ),
            "votes": view.votes,
            "voted": view.voted,
            "can_vote": view.can_vote,
            "can_rate": view.can_rate,
            "can_tip": view.can_tip,
        }
        for view in views
    ]


def _question_with_answers(
    request: Request, viewer: Membership | None, question: Question
) -> dict[str, Any]:
    page = selectors.question_page(viewer=viewer, question=question)
    data = question_data(question)
    data["answers"] = _answer_items(request, page.answers)
    data["answer_count"] = page.answer_count
    data["answers_url"] = request.build_absolute_uri(
        reverse("api-answers", kwargs={"question_id": question.pk})
    )
    data["answers_hidden"] = page.answers_hidden
    data["phase"] = page.phase
    data["can_answer"] = page.can_answer
    data["can_revise"] = page.can_revise
    data["voting_opens_at"] = page.voting_opens_at
    data["voting_closes_at"] = page.voting_closes_at
    data["voting_open"] = page.voting_open
    data["votes_left"] = page.votes_left if page.may_vote else 0
    # What the caller may do, from the same checks the services apply (questions.access).
    data["can_edit_brief"] = page.can_edit_brief
    data["can_schedule"] = page.can_schedule
    data["can_invite"] = page.can_invite
    data["can_mark_challenge"] = page.can_mark_challenge
    data["can_comment"] = page.can_comment
    data["can_remove_comments"] = page.can_remove_comments
    return data


class QuestionListView(APIView):
    @extend_schema(
        operation_id="questions_list",
        parameters=[
            OpenApiParameter("week", str, description="2026-W48"),
            OpenApiParameter("tag", str, description="A skill the question needs."),
            OpenApiParameter("state", str, enum=list(Question.State.values)),
            OpenApiParameter("q", str, description="Words in questions and answers."),
        ],
        responses={200: page_of(QuestionListItemSerializer(many=True), "Question")},
    )
    def get(self, request: Request, slug: str) -> Response:
        viewer = access.access_question_list(user=request.user, slug=slug)
        params = query_params(request)
        filters = selectors.QuestionFilters(
            week=params.get("week", ""),
            tag=params.get("tag", ""),
            state=params.get("state", ""),
            q=params.get("q", ""),
        )
        qs = selectors.questions_list(viewer=viewer, community=viewer.community, filters=filters)
        return paginated(request, self, qs, lambda q: question_data(q, answer_count=q.answer_count))

    @extend_schema(request=QuestionInputSerializer, responses={201: QuestionOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Write a brief: submitted for scheduling (or a draft with ``"draft": true``)."""
        viewer = access.access_brief_write(user=request.user, slug=slug)
        serializer = QuestionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        question = services.question_create(
            author=viewer,
            title=data["title"],
            background=data["background"],
            wanted=data["wanted"],
            needs=data.get("needs", []),
            preferred_week=_week(viewer.community, data.get("preferred_week"), "preferred_week"),
            attachment=_attachment(viewer, data.get("attachment")),
            submit=not data["draft"],
        )
        return Response(question_data(question), status=status.HTTP_201_CREATED)


class QuestionDetailView(APIView):
    permission_classes = [AllowAny]  # challenge questions are public; access_question decides

    @extend_schema(responses={200: QuestionDetailSerializer})
    def get(self, request: Request, question_id: int) -> Response:
        """One question with its answers and their discussion (members; a visitor or
        candidate on a challenge question sees the brief and only their own answer)."""
        viewer, question = access.access_question(user=request.user, question_id=question_id)
        return Response(_question_with_answers(request, viewer, question))

    @extend_schema(request=QuestionUpdateSerializer, responses={200: QuestionOutputSerializer})
    def patch(self, request: Request, question_id: int) -> Response:
        """The asker edits a brief until it is scheduled (``"submit": true`` submits a draft)."""
        viewer, question = access.access_own_brief(user=request.user, question_id=question_id)
        serializer = QuestionUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "preferred_week" in changes:
            changes["preferred_week"] = _week(
                question.community, changes["preferred_week"], "preferred_week"
            )
        if "attachment" in changes:
            changes["attachment"] = _attachment(viewer, changes["attachment"])
        question = services.question_update(author=viewer, question=question, changes=changes)
        return Response(question_data(question))


class ScheduleView(APIView):
    @extend_schema(request=ScheduleSerializer, responses={200: QuestionOutputSerializer})
    def post(self, request: Request, question_id: int) -> Response:
        """Schedule a submitted brief into a week (moderators and organisers)."""
        viewer, question = access.access_question_moderation(
            user=request.user, question_id=question_id
        )
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        week = _week(question.community, serializer.validated_data["week"], "week")
        assert week is not None  # noqa: S101 - the field is required
        question = services.question_schedule(moderator=viewer, question=question, week=week)
        return Response(question_data(question))


class ChallengeView(APIView):
    @extend_schema(request=ChallengeSerializer, responses={200: QuestionOutputSerializer})
    def post(self, request: Request, question_id: int) -> Response:
        viewer, question = access.access_question_moderation(
            user=request.user, question_id=question_id
        )
        serializer = ChallengeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = services.question_set_challenge(
            moderator=viewer,
            question=question,
            is_challenge=serializer.validated_data["is_challenge"],
        )
        return Response(question_data(question))


class InviteView(APIView):
    @extend_schema(request=InviteSerializer, responses={201: InvitedSerializer})
    def post(self, request: Request, question_id: int) -> Response:
        """Invite members (membership ids, e.g. from the matcher) to answer."""
        viewer, question = access.access_question_moderation(
            user=request.user, question_id=question_id
        )
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.invitations_create(
            moderator=viewer, question=question, invitees=serializer.validated_data["members"]
        )
        return Response(
            {"invited": [i.invitee_id for i in created]}, status=status.HTTP_201_CREATED
        )


class AnswerCreateView(APIView):
    @extend_schema(
        operation_id="questions_answers_list",
        parameters=[
            OpenApiParameter(
                "order",
                str,
                enum=list(selectors.AnswerOrder.values),
                description="top (the default): by votes once the week is closed, then "
                "by rating; newest; oldest.",
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 100."),
        ],
        responses={200: page_of(QuestionAnswerSerializer(many=True), "QuestionAnswer")},
    )
    def get(self, request: Request, question_id: int) -> Response:
        """A question's answers in pages, each with its first comments (members; a
        candidate sees only their own answer)."""
        viewer, question = access.access_question(user=request.user, question_id=question_id)
        order = query_params(request).get("order", "")
        if order and order not in selectors.AnswerOrder.values:
            raise ValidationError(
                {"order": _("Order by one of: %s.") % ", ".join(selectors.AnswerOrder.values)}
            )
        ids = selectors.ordered_answer_ids(
            viewer=viewer, question=question, order=selectors.answer_order(order)
        )
        paginator = FullPagination()
        shown = paginator.paginate_queryset(ids, request, view=self) or []
        # as question_page decides them
        voting_open = (
            question.session is not None
            and lifecycle.question_phase(question) == lifecycle.Phase.VOTING
        )
        my_votes: frozenset[int] = frozenset()
        if access.is_writer(viewer) and question.session is not None:
            my_votes = frozenset(
                Vote.objects.filter(
                    voter=viewer, week=question.session.week, answer_id__in=shown
                ).values_list("answer_id", flat=True)
            )
        views = selectors.answer_views(
            viewer=viewer,
            question=question,
            ids=list(shown),
            voting_open=voting_open,
            my_votes=my_votes,
        )
        selectors.load_threads(views, viewer=viewer)
        return paginator.get_paginated_response(_answer_items(request, views))

    @extend_schema(request=AnswerInputSerializer, responses={201: AnswerOutputSerializer})
    def post(self, request: Request, question_id: int) -> Response:
        """Answer in Markdown; the answer carries ``body`` as written and ``body_html``,
        sanitised. A signed-in visitor answering a challenge question becomes a candidate."""
        viewer, question = access.access_question(user=request.user, question_id=question_id)
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if viewer is None:
            answer = services.challenge_answer_create(
                user=request.user,  # type: ignore[arg-type]
                question=question,
                body=data["body"],
            )
        else:
            answer = services.answer_create(
                author=viewer,
                question=question,
                body=data["body"],
                attachment=_attachment(viewer, data.get("attachment")),
            )
        return Response(answer_data(answer), status=status.HTTP_201_CREATED)


class AnswerDetailView(APIView):
    @extend_schema(responses={200: AnswerOutputSerializer})
    def get(self, request: Request, answer_id: int) -> Response:
        _viewer, answer = access.access_answer(user=request.user, answer_id=answer_id)
        return Response(answer_data(answer))

    @extend_schema(request=AnswerInputSerializer, responses={200: AnswerOutputSerializer})
    def patch(self, request: Request, answer_id: int) -> Response:
        """Revise one's answer until voting closes; every revision is kept."""
        viewer, answer = access.access_answer(user=request.user, answer_id=answer_id)
        if viewer is None or answer.author_id != viewer.pk:
            raise member_access.PermissionDenied(_("Only the author can revise an answer."))
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = services.answer_revise(
            author=viewer,
            answer=answer,
            body=serializer.validated_data["body"],
            attachment=_attachment(viewer, serializer.validated_data.get("attachment")),
        )
        return Response(answer_data(answer))


class RevisionListView(APIView):
    @extend_schema(
        operation_id="v1_answers_revisions_retrieve",
        responses={200: RevisionSerializer(many=True)},
    )
    def get(self, request: Request, answer_id: int) -> Response:
        _viewer, answer = access.access_answer(user=request.user, answer_id=answer_id)
        return Response(
            [
                {"number": r.number, "body": r.body, "created_at": r.created_at}
                for r in selectors.revisions(answer=answer)
            ]
        )


class CommentCreateView(APIView):
    @extend_schema(
        operation_id="answers_comments_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: page_of(CommentOutputSerializer(many=True), "Comment")},
    )
    def get(self, request: Request, answer_id: int) -> Response:
        """An answer's comments in pages, oldest first (a reply's ``parent`` names the
        comment it hangs under)."""
        _viewer, answer = access.access_answer(user=request.user, answer_id=answer_id)
        comments = (
            Comment.objects.filter(answer=answer)
            .select_related("author__profile")
            .defer(*selectors.unsearched("author"))
            .order_by("created_at", "pk")
        )
        return paginated(request, self, comments, comment_data, pagination=FullPagination)

    @extend_schema(request=CommentInputSerializer, responses={201: CommentOutputSerializer})
    def post(self, request: Request, answer_id: int) -> Response:
        viewer, answer = access.access_answer(user=request.user, answer_id=answer_id)
        if viewer is None:
            raise member_access.PermissionDenied(_("Only active members can comment."))
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        parent = None
        parent_id = serializer.validated_data.get("parent")
        if parent_id is not None:
            parent = Comment.objects.filter(pk=parent_id, answer=answer).first()
            if parent is None:
                raise ValidationError({"parent": _("Reply to a comment on this answer.")})
        comment = services.comment_create(
            author=viewer, answer=answer, body=serializer.validated_data["body"], parent=parent
        )
        comment.author = viewer
        return Response(comment_data(comment), status=status.HTTP_201_CREATED)


class CommentDetailView(APIView):
    @extend_schema(request=CommentEditSerializer, responses={200: CommentOutputSerializer})
    def patch(self, request: Request, comment_id: int) -> Response:
        """Edit one's comment within the edit window."""
        viewer, comment = access.access_comment(user=request.user, comment_id=comment_id)
        serializer = CommentEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_edit(
            author=viewer, comment=comment, body=serializer.validated_data["body"]
        )
        comment.author = viewer
        return Response(comment_data(comment))


class CommentRemoveView(APIView):
    @extend_schema(request=RemoveSerializer, responses={200: CommentOutputSerializer})
    def post(self, request: Request, comment_id: int) -> Response:
        """Remove a comment, with a reason that is kept (moderators and organisers)."""
        viewer, comment = access.access_comment(user=request.user, comment_id=comment_id)
        if not viewer.is_moderator:
            raise member_access.PermissionDenied(_("Only moderators and organisers can do this."))
        serializer = RemoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_remove(
            moderator=viewer, comment=comment, reason=serializer.validated_data["reason"]
        )
        return Response(comment_data(comment))


class RatingView(APIView):
    @extend_schema(request=RatingSerializer, responses={200: RatingOutputSerializer})
    def put(self, request: Request, answer_id: int) -> Response:
        """Rate an answer 1–5 (again to change it); not one's own."""
        viewer, answer = access.access_answer(user=request.user, answer_id=answer_id)
        if viewer is None:
            raise member_access.PermissionDenied(_("Only active members can rate answers."))
        serializer = RatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rating = services.rating_set(
            rater=viewer, answer=answer, stars=serializer.validated_data["stars"]
        )
        return Response({"answer": answer.pk, "stars": rating.stars})


class VoteView(APIView):
    @extend_schema(
        request=None,
        responses={200: VotesLeftSerializer},
    )
    def put(self, request: Request, answer_id: int) -> Response:
        """Vote for an answer on this week's ballot while voting is open (active members; one
        vote per answer, never one's own, ``votes_per_member`` a week). Voting again for the
        same answer changes nothing. A refusal is 400 naming why under ``vote``."""
        viewer, answer = access.access_answer_vote(user=request.user, answer_id=answer_id)
        return Response({"votes_left": votes.vote_cast(voter=viewer, answer=answer)})

    @extend_schema(
        request=None,
        responses={200: VotesLeftSerializer},
    )
    def delete(self, request: Request, answer_id: int) -> Response:
        """Withdraw one's vote for an answer while voting is open."""
        viewer, answer = access.access_answer_vote(user=request.user, answer_id=answer_id)
        return Response({"votes_left": votes.vote_withdraw(voter=viewer, answer=answer)})


class BallotView(APIView):
    @extend_schema(responses={200: BallotSerializer, **errors(400)})
    def get(self, request: Request, slug: str, week: str) -> Response:
        """A week's ballot (``current`` for this week's): its answers, what the caller voted
        for and how many votes they have left (members). Vote counts appear in the week's
        results once it is closed."""
        viewer = access.access_ballot(user=request.user, slug=slug)
        community = viewer.community
        start = weeks.start_of(community) if week == "current" else _week(community, week, "week")
        assert start is not None  # noqa: S101 - _week refuses an empty label
        ballot = votes.ballot(viewer=viewer, community=community, week=start)
        return Response(
            {
                "week": ballot.label,
                "phase": ballot.phase,
                "voting_opens_at": ballot.opens_at,
                "voting_closes_at": ballot.closes_at,
                "votes_per_member": ballot.votes_per_member,
                "votes_left": ballot.votes_left if ballot.may_vote else 0,
                "questions": [
                    {
                        "id": bq.question.pk,
                        "title": bq.question.title,
                        "answers": [
                            {
                                "id": item.answer.pk,
                                "author": {
                                    "id": item.answer.author_id,
                                    "handle": item.answer.author.profile.handle,
                                },
                                "created_at": item.answer.created_at,
                                "mine": item.mine,
                                "voted": item.voted,
                            }
                            for item in bq.answers
                        ],
                    }
                    for bq in ballot.questions
                ],
            }
        )


class AttachmentUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={201: AttachmentOutputSerializer, **errors(400)},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Upload a .docx, .pdf, .md or .txt (at most 10 MB) to attach to a brief or answer."""
        viewer = member_access.access_membership(
            user=request.user,
            slug=slug,
            roles=(*access.READER_ROLES, Membership.Role.CANDIDATE),
            statuses=(Membership.Status.ACTIVE,),
            message=_("Only active members can upload files."),
        )
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": _("Choose a file.")})
        try:
            attachment = attachments.attachment_create(uploader=viewer, upload=upload)
        except ValidationError as exc:  # name the field the caller sent
            raise ValidationError({"file": exc.message_dict["attachment"]}) from None
        return Response(attachment_data(attachment), status=status.HTTP_201_CREATED)


class SessionView(APIView):
    @extend_schema(responses={200: SessionOutputSerializer})
    def get(self, request: Request, slug: str, week: str) -> Response:
        """A week's session: its announcement and questions."""
        viewer = access.access_question_list(user=request.user, slug=slug)
        try:
            start = weeks.parse(viewer.community, week)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
        [view] = selectors.week_overview(viewer=viewer, community=viewer.community, starts=[start])
        return Response(
            {
                "week": view.label,
                "begins_at": view.begins_at,
                "ends_at": view.ends_at,
                "announcement_html": view.announcement_html,
                "questions": [
                    question_data(q, answer_count=q.answer_count)  # type: ignore[attr-defined]
                    for q in view.questions
                ],
            }
        )


class NotificationListView(APIView):
    @extend_schema(responses={200: NotificationListSerializer})
    def get(self, request: Request) -> Response:
        items = selectors.notifications_for(user=request.user)  # type: ignore[arg-type]
        return Response(
            {
                "unread": selectors.unread_count(user=request.user),  # type: ignore[arg-type]
                "results": [notification_data(n) for n in items],
            }
        )


class NotificationReadView(APIView):
    @extend_schema(request=None, responses={200: MarkedSerializer})
    def post(self, request: Request) -> Response:
        """Mark all one's notifications read."""
        return Response({"marked": mark_read(user=request.user)})  # type: ignore[arg-type]


class PreviewView(APIView):
    @extend_schema(request=PreviewSerializer, responses={200: PreviewOutputSerializer})
    def post(self, request: Request) -> Response:
        """Render Markdown exactly as an answer would be (sanitised)."""
        serializer = PreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"html": markdown.render(serializer.validated_data["body"])})
