"""The community-scoped admin: the base of the moderators' and organisers' panel at ``/manage/``
(SPEC §3), and the panel's site.

``moderation_site`` is a second Django ``AdminSite`` beside the staff one at ``/admin/``. Who may
open it does not depend on ``is_staff``: an active user with an active moderator or organiser
membership in at least one community. Signing in is the portal's (allauth): visitors are sent
there and come back; a signed-in person without the role gets a 403.

Each app registers its model admins on ``moderation_site`` from its own ``admin`` module
(``questions.admin``), built on ``CommunityScopedAdmin``: everything is scoped to the
communities the signed-in person moderates or organises (an *active* moderator or organiser
membership): querysets, object pages, filter choices and actions. Rows are read-only; every
write is an admin action that calls a service. People are named by handle only
(``handle_of``, through ``members.privacy``) in every phase.

This module is in ``members``, the leftmost app, so that every app can build on it
(CONVENTIONS.md); it imports from no other app.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.generic import RedirectView

from members import privacy
from members.access import MODERATOR_ROLES
from members.models import Community, Membership

_CACHE_ATTR = "_moderator_memberships"


# --- Who moderates what ----------------------------------------------------------------------


def moderator_memberships(request: HttpRequest) -> dict[int, Membership]:
    """The caller's active moderator and organiser memberships, by community id; empty for
    visitors, inactive users and plain members. One query per request (cached on it)."""
    cached: dict[int, Membership] | None = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        cached = {}
        user = request.user
        if user.is_authenticated and user.is_active:
            cached = {
                m.community_id: m
                for m in Membership.objects.select_related("community").filter(
                    user_id=user.pk, status=Membership.Status.ACTIVE, role__in=MODERATOR_ROLES
                )
            }
        setattr(request, _CACHE_ATTR, cached)
    return cached


def moderated_community_ids(request: HttpRequest) -> set[int]:
    return set(moderator_memberships(request))


def handle_of(membership: Membership | None) -> str:
    """A member as these pages name them: the handle, never the real name or company."""
    if membership is None:
        return "—"
    try:
        profile = membership.profile
    except ObjectDoesNotExist:
        return gettext("(no profile)")
    return privacy.display_name(profile)


# --- Time zones ------------------------------------------------------------------------------
# The portal shows a community's times in the community's zone (base.html); so do these pages.
# A page about one community (an object's page, a list filtered to one community, or anyone
# who moderates communities of a single zone) runs in that zone; a list mixing communities of
# several zones shows each row's times in its own community's zone (``local_time_column``).


def time_zone_for(request: HttpRequest) -> str | None:
    """The zone a ``/manage/`` request is shown in before any row is known: the community the
    list is filtered to (``?community=<id>``, one of the caller's), else the one zone all the
    caller's communities share; ``None`` (the server's zone) when they differ."""
    mine = moderator_memberships(request)
    chosen = request.GET.get(CommunityFilter.parameter_name, "")
    if chosen.isdigit() and int(chosen) in mine:
        return mine[int(chosen)].community.time_zone
    zones = {m.community.time_zone for m in mine.values()}
    return zones.pop() if len(zones) == 1 else None


def community_time(value: Any, community: Community) -> str:
    """A moment as the portal writes it (``Y-m-d H:i``), in ``community``'s zone, in a
    ``<time>`` element that carries the exact instant and names the zone."""
    if value is None:
        return "—"
    local = timezone.localtime(value, zoneinfo.ZoneInfo(community.time_zone))
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        community.time_zone,
        dateformat.format(local, "Y-m-d H:i"),
    )


def local_time_column(field_name: str, description: Any) -> Callable[[Any, Any], str]:
    """A changelist column showing the datetime ``field_name`` in the row's community's zone
    (sortable by the field): ``submitted = local_time_column("submitted_at", ...)``."""

    @admin.display(description=description, ordering=field_name)
    def column(model_admin: CommunityScopedAdmin, obj: Any) -> str:
        return community_time(getattr(obj, field_name), model_admin.community_of(obj))

    return column


# --- Filters -----------------------------------------------------------------------------------


class CommunityFilter(admin.SimpleListFilter):
    """The caller's communities only (never a list of every community in the deployment)."""

    title = _("community")
    parameter_name = "community"
    field_path = "community_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        mine = sorted(moderator_memberships(request).values(), key=lambda m: m.community.name)
        return [(str(m.community_id), m.community.name) for m in mine]

    def has_output(self) -> bool:
        return len(self.lookup_choices) > 1

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit() or int(value) not in moderated_community_ids(request):
            return queryset.none()
        return queryset.filter(**{self.field_path: int(value)})


# --- The shared base ---------------------------------------------------------------------------


class CommunityScopedAdmin(admin.ModelAdmin):
    """Read-only rows of the caller's communities; writes only through the actions, which need
    ``has_moderate_permission`` (an active moderator or organiser of the row's community)."""

    community_path = "community_id"
    # Columns naming the row's community: left out for someone with a single community, so
    # that a list fits a laptop's screen.
    community_columns: tuple[str, ...] = ("community", "community_name")
    change_form_template = "moderation/change_form.html"
    actions_on_bottom = True

    def community_id_of(self, obj: Any) -> int:
        raise NotImplementedError

    def community_of(self, obj: Any) -> Community:
        """The row's community, along ``community_path`` (select it with the rows)."""
        found: Any = obj
        for step in self.community_path.removesuffix("_id").split("__"):
            found = getattr(found, step)
        community: Community = found
        return community

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # A row's page shows its times in its community's zone; the site's ``admin_view``
        # renders the page inside ``timezone.override``, which restores the zone afterwards.
        if obj is not None:
            timezone.activate(self.community_of(obj).time_zone)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def membership_for(self, request: HttpRequest, obj: Any) -> Membership | None:
        return moderator_memberships(request).get(self.community_id_of(obj))

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = super().get_list_display(request)
        if len(moderator_memberships(request)) > 1:
            return columns
        return [c for c in columns if c not in self.community_columns]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .filter(**{f"{self.community_path}__in": moderated_community_ids(request)})
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        # Another community's row (or no row) is simply not there: 404, not the admin's
        # "perhaps it was deleted" redirect.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Not found."))
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(moderator_memberships(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return bool(moderator_memberships(request))
        return self.membership_for(request, obj) is not None

    def has_moderate_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Acting on rows (the actions): the same people as viewing; named apart so that the
        admin's own change form stays read-only."""
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # no raw field editing: the actions call the services

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The admin log names accounts (user names): not shown here.
        raise Http404(gettext("Not found."))

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        # Row ids are integers; anything else is refused here rather than by the database.
        if not all(pk.isdigit() for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(request, gettext("No such rows."), messages.ERROR)
            return None
        return super().response_action(request, queryset, *args, **kwargs)

    def actionable(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[Any]:
        """The selected rows the caller may act on (the queryset is scoped already; this is
        the object-level check)."""
        rows = [obj for obj in queryset if self.has_moderate_permission(request, obj)]
        if not rows:
            self.message_user(
                request,
                gettext("None of the selected rows belongs to a community you moderate."),
                messages.WARNING,
            )
        return rows

    def intermediate_page(
        self,
        request: HttpRequest,
        *,
        template: str,
        title: str,
        action: str,
        selected: list[Any],
        rows: list[Any],
        form: forms.Form,
        **context: Any,
    ) -> TemplateResponse:
        # Rows of one community: its zone (the site restores the zone after the request).
        zones = {self.community_of(obj).time_zone for obj in selected}
        if len(zones) == 1:
            timezone.activate(zones.pop())
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "subtitle": None,
                "opts": self.opts,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "selected": [obj.pk for obj in selected],
                "rows": rows,
                "form": form,
                "media": self.media + form.media,
                **context,
            },
        )


# --- The site at /manage/ ----------------------------------------------------------------------


class ModerationAdminSite(admin.AdminSite):
    site_header = _("Community moderation")
    site_title = _("Community moderation")
    index_title = _("Your communities")
    # The portal's header stands in for the admin's; the pages keep their full width.
    enable_nav_sidebar = False

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        """The portal's look (admin/base_site.html switches on ``portal_look``) and the
        caller's communities for its header."""
        context = super().each_context(request)
        mine = sorted(moderator_memberships(request).values(), key=lambda m: m.community.name)
        context.update(
            portal_look=True,
            moderated_communities=[m.community for m in mine],
        )
        return context

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(moderator_memberships(request))

    def _refuse(self) -> PermissionDenied:
        return PermissionDenied(
            gettext("Only moderators and organisers of a community can open this page.")
        )

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        """Like Django's, but a visitor goes to the portal's sign-in page, and a signed-in
        person without the role gets a 403 rather than the admin's own login form."""

        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not self.has_permission(request):
                if request.user.is_authenticated:
                    raise self._refuse()
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            # Times in the community's zone; the page is rendered here, inside the zone (a
            # TemplateResponse would otherwise render after the view, in the server's zone).
            with timezone.override(time_zone_for(request)):
                response: HttpResponse = view(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse):
                    response.render()
            return response

        wrapped: Callable[..., HttpResponse] = inner
        if not cacheable:
            wrapped = never_cache(wrapped)
        if not getattr(view, "csrf_exempt", False):
            wrapped = csrf_protect(wrapped)
        return update_wrapper(wrapped, view)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """``/manage/login/``: the portal's sign-in (allauth) does the signing in."""
        index = reverse("admin:index", current_app=self.name)
        target = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = index
        if not request.user.is_authenticated:
            return redirect_to_login(target, settings.LOGIN_URL)
        if not self.has_permission(request):
            raise self._refuse()
        return HttpResponseRedirect(target)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        """Django's admin URLs, with two of them handed over: changing the password is the
        portal's (allauth) page, and the content-type redirect ("view on site" for any object
        of any model) is not offered; the model admins link to their rows' pages directly."""
        replaced: dict[str, URLPattern] = {
            "password_change": path(
                "password_change/",
                self.admin_view(RedirectView.as_view(pattern_name="account_change_password")),
                name="password_change",
            ),
            "view_on_site": path(
                "r/<int:content_type_id>/<path:object_id>/",
                self.admin_view(_not_offered),
                name="view_on_site",
            ),
        }
        urls: list[URLResolver | URLPattern] = []
        for url in super().get_urls():
            name = url.name if isinstance(url, URLPattern) else None
            urls.append(replaced.get(name or "", url))
        return urls


def _not_offered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404(gettext("Not found."))


moderation_site = ModerationAdminSite(name="moderation")
moderation_site.disable_action("delete_selected")
