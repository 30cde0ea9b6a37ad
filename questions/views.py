"""Portal pages for questions, sessions, answers, discussion and notifications."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from members import access as member_access
from members import cached, privacy, weeks
from members import selectors as member_selectors
from members.errors import add_to_form
from members.models import Community, Membership, Tag
from members.pagination import CappedPaginator
from questions import (
    access,
    attachments,
    fragments,
    markdown,
    selectors,
    services,
    votes,
)
from questions.forms import (
    AnnouncementForm,
    AnswerForm,
    BriefForm,
    CommentEditForm,
    CommentForm,
    QuestionFilterForm,
    RatingForm,
    RemoveCommentForm,
    ScheduleForm,
)
from questions.models import Answer, Attachment, Comment, Notification, Question
from questions.notifications import mark_read


def _rows_html(questions: Iterable[Question], community: Community) -> list[SafeString]:
    """List rows of questions, rendered once for what each shows (members.cached)."""
    rows = list(questions)
    return cached.render_each(
        "questions/_row.html",
        [{"q": q, "community": community} for q in rows],
        keys=[
            (
                q.pk,
                q.title,
                q.is_challenge,
                q.state,
                q.session.week if q.session else None,
                q.asker.profile.handle,
                q.answer_count,  # type: ignore[attr-defined]
                community.slug,
            )
            for q in rows
        ],
    )


def _skills(community_id: int) -> list[Tag]:
    return list(Tag.objects.filter(community_id=community_id, kind=Tag.Kind.SKILL).order_by("name"))


@login_required
def week(request: HttpRequest, slug: str, label: str | None = None) -> HttpResponse:
    """This week's session and next week's (or the given week)."""
    viewer = access.access_question_list(user=request.user, slug=slug)
    community = viewer.community
    if label is None:
        overview = selectors.this_and_next_week(viewer=viewer, community=community)
    else:
        try:
            start = weeks.parse(community, label)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
        overview = selectors.week_overview(viewer=viewer, community=community, starts=[start])
    announce = AnnouncementForm() if access.has_moderator_powers(viewer) else None
    for shown in overview:
        shown.rows = _rows_html(shown.questions, community)
    return render(
        request,
        "questions/week.html",
        {"community": community, "viewer": viewer, "weeks": overview, "announce_form": announce},
    )


def _refused(
    request: HttpRequest,
    form: forms.Form,
    *,
    community: Community,
    heading: str,
    action: str,
    button: str,
    back_url: str,
    back_label: str,
    form_id: str = "",
    form_class: str = "",
) -> HttpResponse:
    """A form the services refused, shown again with its errors next to the fields and what
    was typed kept (status 400); nothing was saved. Sent without a page reload
    (static/js/actions.js) and given the id of the form on the page (``form_id``), only that
    form comes back, to take its place."""
    if form_id and _inline(request):
        form.auto_id = f"{form_id}-%s"  # unique on a page of many such forms
        return render(
            request,
            "questions/_inline_refused.html",
            {
                "community": community,
                "form": form,
                "heading": heading,
                "action": action,
                "button": button,
                "form_id": form_id,
                "form_class": form_class,
            },
            status=400,
        )
    return render(
        request,
        "questions/refused.html",
        {
            "community": community,
            "form": form,
            "heading": heading,
            "action": action,
            "button": button,
            "back_url": back_url,
            "back_label": back_label,
        },
        status=400,
    )


@login_required
@require_POST
def announce(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    viewer = member_access.access_moderation(user=request.user, slug=slug)
    form = AnnouncementForm(request.POST)
    week_url = reverse("questions:week_of", kwargs={"slug": slug, "label": label})
    if form.is_valid():
        try:
            start = weeks.parse(viewer.community, label)
            services.session_announce(
                moderator=viewer,
                community=viewer.community,
                week=start,
                text=form.cleaned_data["announcement"],
            )
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Announcement published."))
            return redirect(week_url)
    return _refused(
        request,
        form,
        community=viewer.community,
        heading=_("The announcement was not published"),
        action=reverse("questions:announce", kwargs={"slug": slug, "label": label}),
        button=_("Publish"),
        back_url=week_url,
        back_label=_("The week"),
    )


@login_required
def question_list(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_question_list(user=request.user, slug=slug)
    community = viewer.community
    form = QuestionFilterForm(request.GET or None, vocabulary=_skills(community.pk))
    page = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        filters = selectors.QuestionFilters(
            week=data.get("week", ""),
            tag=data.get("tag", ""),
            state=data.get("state", ""),
            q=data.get("q", ""),
        )
        try:
            qs = selectors.questions_list(viewer=viewer, community=community, filters=filters)
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            page = CappedPaginator(qs, settings.QUESTIONS_PAGE_SIZE).get_page(
                request.GET.get("page")
            )
    return render(
        request,
        "questions/list.html",
        {
            "community": community,
            "viewer": viewer,
            "form": form,
            "page": page,
            "rows": _rows_html(page.object_list, community) if page else [],
            # the rules access_brief_write and access_moderation apply
            "can_ask": access.may_ask(viewer),
            "can_triage": access.has_moderator_powers(viewer),
        },
    )


@login_required
def mine(request: HttpRequest, slug: str) -> HttpResponse:
    """My briefs (every state) and my answers."""
    viewer = access.access_question_list(user=request.user, slug=slug)
    community = viewer.community
    questions = selectors.questions_list(
        viewer=viewer, community=community, filters=selectors.QuestionFilters(mine=True)
    )
    return render(
        request,
        "questions/mine.html",
        {
            "community": community,
            "viewer": viewer,
            "questions": questions[:100],
            "answers": selectors.my_answers(viewer=viewer)[:100],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def brief_create(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_brief_write(user=request.user, slug=slug)
    community = viewer.community
    form = BriefForm(
        request.POST or None,
        request.FILES or None,
        community=community,
        vocabulary=_skills(community.pk),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        attachment = None
        try:
            with transaction.atomic():  # a refused brief keeps no file either
                attachment = (
                    attachments.attachment_create(uploader=viewer, upload=data["attachment"])
                    if data["attachment"]
                    else None
                )
                question = services.question_create(
                    author=viewer,
                    title=data["title"],
                    background=data["background"],
                    wanted=data["wanted"],
                    needs=data["needs"],
                    preferred_week=data["preferred_week"],
                    attachment=attachment,
                    submit="submit" in request.POST,
                )
        except ValidationError as exc:
            attachments.attachment_discard(attachment)
            add_to_form(form, exc)
        else:
            if question.state == Question.State.SUBMITTED:
                messages.success(
                    request, _("Your brief is submitted. A moderator will schedule it.")
                )
            else:
                messages.success(request, _("Draft saved."))
            return redirect(question.get_absolute_url())
    return render(
        request,
        "questions/brief_form.html",
        {"community": community, "viewer": viewer, "form": form, "question": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def brief_edit(request: HttpRequest, slug: str, question_id: int) -> HttpResponse:
    viewer, question = access.access_own_brief(
        user=request.user, question_id=question_id, slug=slug
    )
    community = viewer.community
    initial = {
        "title": question.title,
        "background": question.background,
        "wanted": question.wanted,
        "needs": [t.name for t in question.needs.all()],
        "preferred_week": weeks.label(question.preferred_week) if question.preferred_week else "",
    }
    form = BriefForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        community=community,
        vocabulary=_skills(community.pk),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in ("title", "background", "wanted", "needs", "preferred_week")}
        changes["submit"] = "submit" in request.POST
        try:
            with transaction.atomic():  # a refused change keeps no file either
                if data["attachment"]:
                    changes["attachment"] = attachments.attachment_create(
                        uploader=viewer, upload=data["attachment"]
                    )
                services.question_update(author=viewer, question=question, changes=changes)
        except ValidationError as exc:
            attachments.attachment_discard(changes.get("attachment"))
            add_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(question.get_absolute_url())
    return render(
        request,
        "questions/brief_form.html",
        {"community": community, "viewer": viewer, "form": form, "question": question},
    )


def _answers_html(
    request: HttpRequest,
    views: list[selectors.AnswerView],
    *,
    viewer: Membership | None,
    community: Community,
    limit: int | None,
    bodies: bool = True,
) -> None:
    """Give each answer its card and discussion HTML (questions.fragments)."""
    controls = fragments.Controls(
        can_comment=access.may_comment(viewer),
        can_remove_comments=access.may_remove_comment(viewer),
    )
    rendered = fragments.render_answers(
        request,
        views,
        viewer=viewer,
        community=community,
        controls=controls,
        private=selectors.answers_with_editable_comments(viewer=viewer, views=views),
        limit=limit,
        bodies=bodies,
    )
    for view in views:
        view.card_html = rendered[view.answer.pk].card
        view.discussion_html = rendered[view.answer.pk].discussion


def question_detail(request: HttpRequest, slug: str, question_id: int) -> HttpResponse:
    """A question with a page of its answers (``?order=top|newest|oldest``, ``?page=``) and
    their first comments. Challenge questions are public."""
    try:
        viewer, question = access.access_question(
            user=request.user, question_id=question_id, slug=slug
        )
    except PermissionDenied:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise
    page = selectors.question_page(
        viewer=viewer,
        question=question,
        order=selectors.answer_order(request.GET.get("order")),
        page=request.GET.get("page"),
        threads=False,
        bodies=False,  # the cached cards have them; read only for those that are not
    )
    _answers_html(
        request,
        page.answers,
        viewer=viewer,
        community=question.community,
        limit=selectors.COMMENTS_SHOWN,
        bodies=False,
    )
    return render(
        request,
        "questions/detail.html",
        {
            "community": question.community,
            "viewer": viewer,
            "page": page,
            "q": question,
            "orders": selectors.AnswerOrder.choices,
            "schedule_form": ScheduleForm(community=question.community)
            if page.can_schedule
            else None,
        },
    )


def _answer_access(
    request: HttpRequest, slug: str, answer_id: int
) -> tuple[Membership | None, Answer] | HttpResponse:
    try:
        return access.access_answer(user=request.user, answer_id=answer_id, slug=slug)
    except PermissionDenied:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise


def answer_link(request: HttpRequest, slug: str, answer_id: int) -> HttpResponse:
    """An answer's stable link: the question page at the page that holds it (answers are
    in pages, and ``top`` order moves them), scrolled to it."""
    found = _answer_access(request, slug, answer_id)
    if isinstance(found, HttpResponse):
        return found
    viewer, answer = found
    ids = selectors.ordered_answer_ids(
        viewer=viewer, question=answer.question, order=selectors.AnswerOrder.TOP
    )
    number = selectors.answer_page_number(ids=ids, answer_id=answer.pk)
    query = f"?page={number}" if number > 1 else ""
    return redirect(f"{answer.question.get_absolute_url()}{query}#answer-{answer.pk}")


def discussion(request: HttpRequest, slug: str, answer_id: int) -> HttpResponse:
    """An answer with all of its comments (the question page shows the first few)."""
    found = _answer_access(request, slug, answer_id)
    if isinstance(found, HttpResponse):
        return found
    viewer, answer = found
    question = answer.question
    views = selectors.answer_views(viewer=viewer, question=question, ids=[answer.pk])
    _answers_html(request, views, viewer=viewer, community=question.community, limit=None)
    return render(
        request,
        "questions/discussion.html",
        {"community": question.community, "viewer": viewer, "q": question, "view": views[0]},
    )


@login_required
@require_POST
def schedule(request: HttpRequest, slug: str, question_id: int) -> HttpResponse:
    viewer, question = access.access_question_moderation(
        user=request.user, question_id=question_id, slug=slug
    )
    form = ScheduleForm(request.POST, community=question.community)
    if form.is_valid():
        try:
            services.question_schedule(
                moderator=viewer, question=question, week=form.cleaned_data["week"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Scheduled and published; the asker is notified."))
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = question.get_absolute_url()
    return redirect(target)


@login_required
@require_POST
def set_challenge(request: HttpRequest, slug: str, question_id: int) -> HttpResponse:
    viewer, question = access.access_question_moderation(
        user=request.user, question_id=question_id, slug=slug
    )
    services.question_set_challenge(
        moderator=viewer, question=question, is_challenge=request.POST.get("is_challenge") == "1"
    )
    messages.success(request, _("Saved."))
    return redirect(question.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, slug: str, question_id: int) -> HttpResponse:
    """The matcher, pre-filled with the question's needs; invite the members chosen."""
    viewer, question = access.access_question_moderation(
        user=request.user, question_id=question_id, slug=slug
    )
    community = question.community
    needs = [t.name for t in question.needs.all()]
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("members") if v.isdigit() and len(v) < 19]
        try:
            created = services.invitations_create(moderator=viewer, question=question, invitees=ids)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(n)d invited; each is notified.") % {"n": len(created)})
            return redirect(question.get_absolute_url())
    results = []
    if needs:
        ranked = member_selectors.matcher(community=community, tag_names=needs)[:50]
        results = [
            (p.score, privacy.profile_card(viewer=viewer, profile=p))  # type: ignore[attr-defined]
            for p in ranked
        ]
    invited = set(question.invitations.values_list("invitee_id", flat=True))
    return render(
        request,
        "questions/invite.html",
        {
            "community": community,
            "viewer": viewer,
            "q": question,
            "needs": needs,
            "results": results,
            "invited": invited,
        },
    )


@login_required
def briefs(request: HttpRequest, slug: str) -> HttpResponse:
    """The moderators' queue: submitted briefs waiting to be scheduled."""
    viewer = member_access.access_moderation(user=request.user, slug=slug)
    community = viewer.community
    pending = []
    for question in selectors.briefs_to_schedule(community=community)[:200]:
        first = weeks.label(weeks.first_week_for_brief(community, question.submitted_at))
        # Each brief's week selector starts at the first week it is in time for.
        form = ScheduleForm(
            community=community, initial={"week": first}, auto_id=f"brief{question.pk}_%s"
        )
        pending.append((question, first, form))
    return render(
        request,
        "questions/briefs.html",
        {"community": community, "viewer": viewer, "briefs": pending},
    )


@login_required
@require_http_methods(["GET", "POST"])
def answer_write(request: HttpRequest, slug: str, question_id: int) -> HttpResponse:
    """Write or revise my answer, with a live preview."""
    viewer, question = access.access_question(user=request.user, question_id=question_id, slug=slug)
    existing = Answer.objects.filter(question=question, author=viewer).first() if viewer else None
    form = AnswerForm(
        request.POST or None,
        request.FILES or None,
        initial={"body": existing.body if existing else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = None
        try:
            with transaction.atomic():  # a refused answer keeps no file either
                upload = (
                    attachments.attachment_create(
                        uploader=viewer, upload=data["attachment"], images=True
                    )
                    if viewer is not None and data["attachment"]
                    else None
                )
                if viewer is None:  # a visitor answering a challenge question
                    answer = services.challenge_answer_create(
                        user=request.user,  # type: ignore[arg-type]
                        question=question,
                        body=data["body"],
                    )
                elif existing is not None:
                    answer = services.answer_revise(
                        author=viewer, answer=existing, body=data["body"], attachment=upload
                    )
                else:
                    answer = services.answer_create(
                        author=viewer, question=question, body=data["body"], attachment=upload
                    )
        except ValidationError as exc:
            attachments.attachment_discard(upload)
            add_to_form(form, exc)
        else:
            messages.success(request, _("Your answer is saved."))
            return redirect(answer.get_absolute_url())
    return render(
        request,
        "questions/answer_form.html",
        {
            "community": question.community,
            "viewer": viewer,
            "q": question,
            "form": form,
            "existing": existing,
            "preview_html": markdown.render(form["body"].value() or ""),
            # The editor's draft in the browser: one per person and question.
            "draft_key": f"answer-draft:{request.user.pk}:{question.pk}",
            "can_upload_images": viewer is not None,
        },
    )


@login_required
def answer_revisions(request: HttpRequest, slug: str, answer_id: int) -> HttpResponse:
    viewer, answer = access.access_answer(user=request.user, answer_id=answer_id, slug=slug)
    return render(
        request,
        "questions/revisions.html",
        {
            "community": answer.question.community,
            "viewer": viewer,
            "answer": answer,
            "revisions": [(r, markdown.render(r.body)) for r in selectors.revisions(answer=answer)],
        },
    )


@login_required
@require_POST
def comment_create(request: HttpRequest, slug: str, answer_id: int) -> HttpResponse:
    viewer, answer = access.access_answer(user=request.user, answer_id=answer_id, slug=slug)
    form = CommentForm(request.POST)
    if viewer is None:
        raise PermissionDenied(_("Only active members can comment."))
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = Comment.objects.filter(pk=form.cleaned_data["parent"], answer=answer).first()
        try:
            comment = services.comment_create(
                author=viewer, answer=answer, body=form.cleaned_data["body"], parent=parent
            )
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            if _inline(request):
                return _comment_in_place(request, viewer=viewer, comment=comment)
            return redirect(_comment_location(comment))
    community = answer.question.community
    parent_id = request.POST.get("parent", "")
    return _refused(
        request,
        form,
        community=community,
        heading=_("Your comment was not posted"),
        action=reverse("questions:comment_create", kwargs={"slug": slug, "answer_id": answer.pk}),
        button=_("Comment"),
        back_url=answer.get_absolute_url(),
        back_label=answer.question.title,
        form_id=f"reply-form-{parent_id}" if parent_id.isdigit() else f"comment-form-{answer.pk}",
        form_class="small reply-form" if parent_id.isdigit() else "comment-form",
    )


def _comment_location(comment: Comment) -> str:
    """Where a comment shows: under its answer on the question page if it is among the first
    few, else on the answer's discussion page."""
    answer = comment.answer
    earlier = Comment.objects.filter(answer=answer, created_at__lte=comment.created_at).count()
    if earlier <= selectors.COMMENTS_SHOWN:
        return answer.get_absolute_url()
    community = answer.question.community
    url = reverse("questions:discussion", kwargs={"slug": community.slug, "answer_id": answer.pk})
    return f"{url}#comment-{comment.pk}"


@login_required
@require_POST
def comment_edit(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    viewer, comment = access.access_comment(user=request.user, comment_id=comment_id, slug=slug)
    form = CommentEditForm(request.POST)
    if form.is_valid():
        try:
            services.comment_edit(author=viewer, comment=comment, body=form.cleaned_data["body"])
        except ValidationError as exc:
            add_to_form(form, exc)
        except PermissionDenied as exc:
            if _inline(request):
                return _answer_in_place(
                    request, viewer=viewer, answer=comment.answer, status=str(exc), error=True
                )
            messages.error(request, str(exc))
            return redirect(_comment_location(comment))
        else:
            if _inline(request):
                return _answer_in_place(
                    request, viewer=viewer, answer=comment.answer, status=_("Comment saved.")
                )
            return redirect(_comment_location(comment))
    return _refused(
        request,
        form,
        community=comment.answer.question.community,
        heading=_("Your comment was not changed"),
        action=reverse("questions:comment_edit", kwargs={"slug": slug, "comment_id": comment.pk}),
        button=_("Save"),
        back_url=_comment_location(comment),
        back_label=comment.answer.question.title,
        form_id=f"edit-form-{comment.pk}",
        form_class="small",
    )


@login_required
@require_POST
def comment_remove(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    viewer, comment = access.access_comment(user=request.user, comment_id=comment_id, slug=slug)
    if not access.may_remove_comment(viewer):
        raise PermissionDenied(_("Only moderators and organisers can remove comments."))
    form = RemoveCommentForm(request.POST)
    if form.is_valid():
        services.comment_remove(
            moderator=viewer, comment=comment, reason=form.cleaned_data["reason"]
        )
        if _inline(request):
            return _answer_in_place(
                request, viewer=viewer, answer=comment.answer, status=_("Comment removed.")
            )
        messages.success(request, _("Comment removed."))
    elif _inline(request):
        return _refused(
            request,
            form,
            community=comment.answer.question.community,
            heading=_("Give a reason for removing the comment."),
            action=reverse(
                "questions:comment_remove", kwargs={"slug": slug, "comment_id": comment.pk}
            ),
            button=_("Remove comment"),
            back_url=_comment_location(comment),
            back_label=comment.answer.question.title,
            form_id=f"remove-form-{comment.pk}",
            form_class="small inline-form",
        )
    else:
        messages.error(request, _("Give a reason for removing the comment."))
    return redirect(_comment_location(comment))


@login_required
@require_POST
def rate(request: HttpRequest, slug: str, answer_id: int) -> HttpResponse:
    viewer, answer = access.access_answer(user=request.user, answer_id=answer_id, slug=slug)
    form = RatingForm(request.POST)
    if form.is_valid() and viewer is not None:
        try:
            services.rating_set(rater=viewer, answer=answer, stars=form.cleaned_data["stars"])
        except ValidationError as exc:
            done, refused = "", " ".join(exc.messages)
        else:
            done, refused = _("Thanks for rating."), ""
    else:
        done, refused = "", _("Give 1 to 5 stars.")
    if _inline(request):
        return _answer_in_place(
            request, viewer=viewer, answer=answer, status=done or refused, error=bool(refused)
        )
    if refused:
        messages.error(request, refused)
    else:
        messages.success(request, done)
    return redirect(_back(request, answer.get_absolute_url()))


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        mark_read(user=request.user)  # type: ignore[arg-type]
        return redirect(reverse("questions:notifications"))
    return render(
        request,
        "questions/notifications.html",
        {"items": selectors.notifications_for(user=request.user)},  # type: ignore[arg-type]
    )


@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Open a notification: it is marked read and the reader is taken to what it is about."""
    found = (
        Notification.objects.filter(pk=notification_id, recipient_id=request.user.pk)
        .select_related("community")
        .first()
    )
    if found is None:
        raise Http404(_("No such notification."))
    mark_read(user=request.user, ids=[found.pk])  # type: ignore[arg-type]
    if found.answer_id:
        target = reverse(
            "questions:answer_link",
            kwargs={"slug": found.community.slug, "answer_id": found.answer_id},
        )
    else:
        target = reverse(
            "questions:detail",
            kwargs={"slug": found.community.slug, "question_id": found.question_id},
        )
    return redirect(target)


def attachment(request: HttpRequest, attachment_id: uuid.UUID) -> HttpResponseBase:
    """Serve an attachment to whoever may read what it is attached to — a challenge
    question's brief to visitors too, as its page is; anyone else not signed in is sent to
    sign in."""
    try:
        item = access.access_attachment(user=request.user, attachment_id=attachment_id)
    except (PermissionDenied, Http404):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise
    image = item.kind in attachments.IMAGE_KINDS  # shown in the page, not downloaded
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=not image,
        filename=item.name,
        content_type=attachments.CONTENT_TYPES[Attachment.Kind(item.kind)],
    )
    if image:  # opened on its own, it may do nothing but be an image
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The editor's live preview: the same sanitised rendering the answer will get."""
    body = request.POST.get("body", "")[:100_000].replace("\x00", "")
    return JsonResponse({"html": markdown.render(body)})


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    return target


@login_required
@require_POST
def vote(request: HttpRequest, slug: str, answer_id: int) -> HttpResponse:
    """Vote for an answer (``action=vote``) or withdraw one's vote (``action=withdraw``)."""
    viewer, answer = access.access_answer_vote(user=request.user, answer_id=answer_id, slug=slug)
    withdraw = request.POST.get("action") == "withdraw"
    try:
        if withdraw:
            left = votes.vote_withdraw(voter=viewer, answer=answer)
        else:
            left = votes.vote_cast(voter=viewer, answer=answer)
    except ValidationError as exc:
        status, error = " ".join(exc.messages), True
    else:
        done = _("Vote withdrawn.") if withdraw else _("Your vote is cast.")
        left_text = ngettext(
            "You have %(n)d vote left this week.", "You have %(n)d votes left this week.", left
        ) % {"n": left}
        status, error = f"{done} {left_text}", False
    if _inline(request):
        if request.headers.get("X-Answer-Page") == "ballot":
            return _ballot_in_place(
                request, viewer=viewer, answer=answer, status=status, error=error
            )
        return _answer_in_place(
            request, viewer=viewer, answer=answer, status=status, error=error, voting_note=True
        )
    (messages.error if error else messages.success)(request, status)
    return redirect(_back(request, answer.get_absolute_url()))


@login_required
def ballot(request: HttpRequest, slug: str, label: str | None = None) -> HttpResponse:
    """A week's ballot (default this week's): every answer to its questions, the votes the
    member has left, what they voted for, and the buttons to vote and withdraw."""
    viewer = access.access_ballot(user=request.user, slug=slug)
    community = viewer.community
    if label is None:
        week = weeks.start_of(community)
    else:
        try:
            week = weeks.parse(community, label)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
    return _ballot_page(request, viewer=viewer, week=week)


def _ballot_page(
    request: HttpRequest,
    *,
    viewer: Membership,
    week: datetime.date,
    http_status: int = 200,
    **context: Any,
) -> HttpResponse:
    """The ballot of ``week`` as ``viewer`` sees it, with ``context`` for the template."""
    community = viewer.community
    return render(
        request,
        "questions/ballot.html",
        {
            "community": community,
            "viewer": viewer,
            "ballot": votes.ballot(viewer=viewer, community=community, week=week),
            **context,
        },
        status=http_status,
    )


# --- Actions answered in place, without a page reload (static/js/actions.js) -------------------


def _inline(request: HttpRequest) -> bool:
    """Sent by static/js/actions.js: answer with the HTML to put in place of what was acted
    on (its elements marked ``data-swap``), not with a redirect."""
    return request.headers.get("X-Requested-With") == "fetch"


def _answer_in_place(
    request: HttpRequest,
    *,
    viewer: Membership | None,
    answer: Answer,
    status: str,
    error: bool = False,
    voting_note: bool = False,
    status_link: str = "",
) -> HttpResponse:
    """The answer's article as its page shows it — the question page, or the discussion page
    (header ``X-Answer-Page: discussion``, all comments, no vote or rating controls) — with
    ``status`` said next to it; its card and discussion rendered by questions.fragments, as
    the page's are, so the same privacy and cache rules hold. 400 when ``error``."""
    question = answer.question
    community = question.community
    on_discussion = request.headers.get("X-Answer-Page") == "discussion"
    voting = selectors.voting_state(viewer=viewer, question=question)
    voting_open, may_vote = voting.open, voting.may_vote
    views = selectors.answer_views(
        viewer=viewer,
        question=question,
        ids=[answer.pk],
        voting_open=voting_open,
        my_votes=voting.my_votes,
    )
    if not views:
        raise Http404(_("No such answer."))
    limit = None if on_discussion else selectors.COMMENTS_SHOWN
    _answers_html(request, views, viewer=viewer, community=community, limit=limit)
    votes_left = voting.votes_left
    return render(
        request,
        "questions/_answer_response.html",
        {
            "community": community,
            "view": views[0],
            "controls": not on_discussion,
            "votes_left": votes_left,
            "may_vote": may_vote,
            "voting_note": voting_note and voting_open and not on_discussion,
            "next_url": _back(request, question.get_absolute_url()).split("#")[0],
            "status": status,
            "status_error": error,
            "status_link": status_link,
        },
        status=400 if error else 200,
    )


def _comment_in_place(
    request: HttpRequest, *, viewer: Membership, comment: Comment
) -> HttpResponse:
    """A comment just posted, said under its answer; when the question page shows only the
    first comments and this is not among them, with the link to the whole discussion."""
    location = _comment_location(comment)
    on_discussion = request.headers.get("X-Answer-Page") == "discussion"
    shown_here = on_discussion or "#comment-" not in location
    return _answer_in_place(
        request,
        viewer=viewer,
        answer=comment.answer,
        status=_("Your comment is posted."),
        status_link="" if shown_here else location,
    )


def _ballot_in_place(
    request: HttpRequest, *, viewer: Membership, answer: Answer, status: str, error: bool
) -> HttpResponse:
    """The ballot of the answer's week after a vote there, with ``status`` said in the
    answer's row: every row and the votes left are put in place (static/js/actions.js)."""
    try:
        week = votes.ballot_week(answer)
    except ValidationError:  # on no ballot: said next to the answer instead
        return _answer_in_place(request, viewer=viewer, answer=answer, status=status, error=error)
    return _ballot_page(
        request,
        viewer=viewer,
        week=week,
        http_status=400 if error else 200,
        acted=answer.pk,
        status=status,
        status_error=error,
    )


_NOT_ALT = re.compile(r"[^\w .-]")  # nothing that Markdown reads inside an image's alt text


@login_required
@require_POST
def answer_image(request: HttpRequest, slug: str, question_id: int) -> JsonResponse:
    """The editor's image button: store an image (``image``) for the answer being written and
    return its Markdown. Only its uploader sees it until a saved answer shows it. Without
    JavaScript, the answer's attachment field takes images too."""
    viewer, _question = access.access_question(
        user=request.user, question_id=question_id, slug=slug
    )
    if viewer is None:
        raise PermissionDenied(_("Only members of this community can add images."))
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"error": _("Choose an image to upload.")}, status=400)
    try:
        image = attachments.image_create(uploader=viewer, upload=upload)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.message_dict.get("image", []))}, status=400)
    url = image.get_absolute_url()
    alt = " ".join(_NOT_ALT.sub(" ", PurePath(image.name).stem).split())
    return JsonResponse({"url": url, "markdown": f"![{alt or _('image')}]({url})"})


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """How one is told of each kind of notification, and each community's digest e-mails."""
    from questions import notifications as notification_service
    from questions.digests import selectors as digest_selectors
    from questions.forms import NotificationPreferencesForm

    user = request.user
    digests = digest_selectors.subscriptions_of_user(user=user)
    form = NotificationPreferencesForm(
        request.POST if request.method == "POST" else None,
        current=notification_service.preferences_of(user=user),  # type: ignore[arg-type]
        digests=digests,
    )
    if request.method == "POST" and form.is_valid():
        try:
            notification_service.settings_save(
                user=user,  # type: ignore[arg-type]
                channels=form.channels(),
                digest_emails=form.digest_emails(),
            )
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect(reverse("questions:notification_settings"))
    return render(
        request,
        "questions/notification_settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
