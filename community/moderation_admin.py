"""The admin panel for moderators and organisers (SPEC §3), at ``/manage/``.

A second Django ``AdminSite`` beside the staff one at ``/admin/``. Who may open it does not
depend on ``is_staff``: an active user with an active moderator or organiser membership in at
least one community. What each model admin shows and does is scoped to those communities
(``questions.moderation_admin``). Signing in is the portal's (allauth): visitors are sent there
and come back; a signed-in person without the role gets a 403.

The apps register their moderation model admins here, the composition root, so that no app
imports from an app on its right (CONVENTIONS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.generic import RedirectView

from questions import moderation_admin as questions_moderation


class ModerationAdminSite(admin.AdminSite):
    site_header = _("Community moderation")
    site_title = _("Community moderation")
    index_title = _("Your communities")

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(questions_moderation.moderator_memberships(request))

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
            response: HttpResponse = view(request, *args, **kwargs)
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
questions_moderation.register(moderation_site)
