"""The organisers' vocabulary page: each tag's names per language, and merging two tags."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from members import access, selectors
from members.errors import add_to_form
from members.forms import TagMergeForm, TagRenameForm
from members.models import Tag
from members.services import tags as tag_services


def _tag_to_edit(vocabulary: dict[str, list[Tag]], raw: str | None) -> Tag | None:
    try:
        pk = int(raw or "")
    except ValueError:
        return None
    return next((t for tags in vocabulary.values() for t in tags if t.pk == pk), None)


@login_required
@require_http_methods(["GET", "POST"])
def tag_manage(request: HttpRequest, slug: str) -> HttpResponse:
    """GET lists the vocabulary (``?edit=<tag id>`` opens one tag's names); POST with
    ``action=rename`` or ``action=merge`` changes it. Organisers only."""
    viewer = access.access_tag_manage(user=request.user, slug=slug)
    community = viewer.community
    vocabulary = selectors.tags_for_management(community=community)
    action = request.POST.get("action") if request.method == "POST" else None
    merge_form = TagMergeForm(
        request.POST if action == "merge" else None, vocabulary=vocabulary, prefix="merge"
    )
    edit = _tag_to_edit(
        vocabulary, request.POST.get("tag") if action == "rename" else request.GET.get("edit")
    )
    rename_form = None
    if edit is not None or action == "rename":
        initial = (
            {"tag": edit.pk, "name": edit.name, "name_en": edit.name_en, "name_zh": edit.name_zh}
            if edit is not None
            else {}
        )
        rename_form = TagRenameForm(request.POST if action == "rename" else None, initial=initial)
    here = reverse("members:tag_manage", kwargs={"slug": slug})
    if action == "merge" and merge_form.is_valid():
        try:
            target = tag_services.tag_merge(
                actor=viewer,
                source_id=merge_form.cleaned_data["source"],
                target_id=merge_form.cleaned_data["target"],
            )
        except ValidationError as exc:
            add_to_form(merge_form, exc)
        else:
            messages.success(
                request, _("Merged. Members now carry “%(tag)s”.") % {"tag": target.label()}
            )
            return redirect(here)
    elif action == "rename" and rename_form is not None and rename_form.is_valid():
        try:
            tag = tag_services.tag_rename(
                actor=viewer,
                tag_id=rename_form.cleaned_data["tag"],
                name=rename_form.cleaned_data["name"],
                name_en=rename_form.cleaned_data["name_en"],
                name_zh=rename_form.cleaned_data["name_zh"],
            )
        except ValidationError as exc:
            add_to_form(rename_form, exc)
        else:
            messages.success(request, _("Saved the names of “%(tag)s”.") % {"tag": tag.label()})
            return redirect(here)
    elif action is not None and action not in ("merge", "rename"):
        messages.error(request, _("Choose what to do with the tags."))
    kinds = dict(Tag.Kind.choices)
    return render(
        request,
        "members/tags.html",
        {
            "community": community,
            "viewer": viewer,
            "groups": [(kinds[kind], tags) for kind, tags in vocabulary.items()],
            "merge_form": merge_form,
            "rename_form": rename_form,
            "editing": edit,
            "can_manage_tags": access.may_manage_tags(viewer),
        },
    )
