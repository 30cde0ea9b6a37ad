"""Digests on the community-scoped admin: every week's digest with its state and e-mails,
its answers in the curated order, and the action to publish. Curation itself (summary,
order, excerpts, hiding, featured) is the portal's curation page, linked from each row
("View on site"); publishing here calls the same service, which lets only that week's
moderator and the community's organisers do it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.scoped_admin import (
    CommunityFilter,
    CommunityScopedAdmin,
    handle_of,
    local_time_column,
    moderation_site,
    moderator_memberships,
)
from questions.digests import selectors, services
from questions.digests.forms import CurateForm
from questions.digests.models import Digest, DigestDelivery, DigestItem


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    fields = ("position", "answer_author", "question_title", "votes", "excerpt", "hidden")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestItem]:
        return (
            super()
            .get_queryset(request)
            .select_related("answer__author__profile", "answer__question")
        )

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The moderation site's users have no model permissions: the digest's own admin
        # decided who sees it (its community's moderators and organisers).
        return bool(moderator_memberships(request))

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("author"))
    def answer_author(self, obj: DigestItem) -> str:
        return handle_of(obj.answer.author)

    @admin.display(description=_("question"))
    def question_title(self, obj: DigestItem) -> str:
        return obj.answer.question.title


@admin.register(Digest, site=moderation_site)
class DigestAdmin(CommunityScopedAdmin):
    list_display = (
        "week_label",
        "community",
        "state",
        "moderator_handle",
        "published",
        "sent",
        "failed",
    )
    list_filter = (CommunityFilter, "state")
    list_select_related = ("community", "moderator__profile")
    ordering = ("-week", "community__name")
    fields = (
        "curate_links",
        "community",
        "week_label",
        "state",
        "moderator_handle",
        "summary",
        "drafted_at",
        "published_at",
        "edited_at",
        "revision",
    )
    readonly_fields = fields
    inlines = (DigestItemInline,)
    actions = ("publish",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Digest]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent_count=Count(
                    "deliveries", filter=Q(deliveries__state=DigestDelivery.State.SENT)
                ),
                failed_count=Count(
                    "deliveries", filter=Q(deliveries__state=DigestDelivery.State.FAILED)
                ),
            )
        )

    def community_id_of(self, obj: Digest) -> int:
        return obj.community_id

    def get_urls(self) -> list[URLPattern]:
        curate = path(
            "<int:digest_id>/curate/",
            self.admin_site.admin_view(self.curate_view),
            name="questions_digest_curate",
        )
        return [curate, *super().get_urls()]

    published = local_time_column("published_at", _("published at"))

    @admin.display(description=_("curate"))
    def curate_links(self, obj: Digest) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse(f"{self.admin_site.name}:questions_digest_curate", args=[obj.pk]),
            gettext("Curate here"),
            obj.get_absolute_url(),
            gettext("Preview the page"),
        )

    def curate_view(self, request: HttpRequest, digest_id: int) -> HttpResponse:
        """The summary and the answers' order, excerpts, hiding and featured flags, through
        the same form and service as the portal's curation page (which also previews the
        e-mail and sends a test). The service lets only that week's moderator and the
        community's organisers save."""
        digest = self.get_object(request, str(digest_id))
        membership = self.membership_for(request, digest)
        view = selectors.digest_view(digest=digest, viewer=membership, curating=True)
        items = [i for section in view.sections for i in section.items]
        form = CurateForm(
            request.POST if request.method == "POST" else None,
            initial={"summary": digest.summary},
            items=[i.item for i in items],
        )
        change_url = reverse(f"{self.admin_site.name}:questions_digest_change", args=[digest.pk])
        if request.method == "POST" and form.is_valid():
            try:
                services.digest_curate(
                    digest=digest,
                    editor=membership,  # type: ignore[arg-type]
                    summary=form.cleaned_data["summary"],
                    items=form.changes(),
                )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
            except ValidationError as exc:
                for text in exc.messages:
                    form.add_error(None, text)
            else:
                self.message_user(request, gettext("Saved."), messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "moderation/digest_curate.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Curate the digest of %(week)s") % {"week": digest.label},
                "subtitle": None,
                "opts": self.opts,
                "digest": digest,
                "form": form,
                "rows": [(i, form.fields_of(i.item)) for i in items],
                "change_url": change_url,
                "media": self.media + form.media,
            },
            status=400 if request.method == "POST" else 200,
        )

    def view_on_site(self, obj: Digest) -> str:
        return reverse("digests:curate", kwargs={"slug": obj.community.slug, "label": obj.label})

    @admin.display(description=_("week"), ordering="week")
    def week_label(self, obj: Digest) -> str:
        return obj.label

    @admin.display(description=_("moderator of the week"))
    def moderator_handle(self, obj: Digest) -> str:
        return handle_of(obj.moderator)

    @admin.display(description=_("e-mails sent"))
    def sent(self, obj: Digest) -> int:
        return getattr(obj, "sent_count", 0)

    @admin.display(description=_("e-mails failed"))
    def failed(self, obj: Digest) -> int:
        return getattr(obj, "failed_count", 0)

    @admin.action(description=_("Publish the selected digests and e-mail members"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
        done = 0
        for digest in self.actionable(request, queryset):
            membership = self.membership_for(request, digest)
            try:
                if digest.is_published:
                    continue
                services.digest_publish(digest=digest, publisher=membership)  # type: ignore[arg-type]
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{digest.label}: {text}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(n)d digest published.", "%(n)d digests published.", done) % {"n": done},
                messages.SUCCESS,
            )
        elif not queryset.exists():
            self.message_user(request, gettext("Nothing was selected."), messages.WARNING)
