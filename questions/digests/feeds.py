"""A member's private Atom feed of a community's published digests (django.contrib.syndication).

The URL carries the member's feed secret: no sign-in, and nothing but this feed is reachable
with it. A new secret (or none) on the member's digest settings page kills the old URL; a
member who left or whose membership is not readable any more gets a 404 too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from members import mail
from members.models import Membership
from questions.digests import access, selectors
from questions.digests.models import Digest, DigestSubscription


class DigestFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str, secret: str) -> Membership:
        found = (
            DigestSubscription.objects.select_related("membership__community", "membership__user")
            .filter(feed_secret=secret, membership__community__slug=slug)
            .first()
            if secret
            else None
        )
        if found is None or not access.may_read_archive(found.membership):
            raise Http404(_("Not found."))
        return found.membership

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().__call__(request, *args, **kwargs)
        # A secret URL: not for shared caches, not for search engines.
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
        response["Referrer-Policy"] = "no-referrer"
        return response

    def title(self, obj: Membership) -> str:
        with translation.override(mail.language_of(obj.user)):
            return _("%(community)s: weekly digests") % {"community": obj.community.name}

    def link(self, obj: Membership) -> str:
        return settings.SITE_URL + reverse("digests:archive", kwargs={"slug": obj.community.slug})

    def subtitle(self, obj: Membership) -> str:
        with translation.override(mail.language_of(obj.user)):
            return _("The week's questions and best answers, distilled by the week's moderator.")

    def items(self, obj: Membership) -> list[tuple[Digest, str, str]]:
        language = mail.language_of(obj.user)
        entries: list[tuple[Digest, str, str]] = []
        for digest in selectors.published_for_feed(community=obj.community):
            view = selectors.digest_view(digest=digest, viewer=obj)
            if view.challenges_only and not view.sections:
                continue
            with translation.override(language):
                title = _("Digest of %(week)s") % {"week": digest.label}
                html = render_to_string(
                    "digests/feed_item.html",
                    {"view": view, "digest": digest, "site_url": settings.SITE_URL},
                )
            entries.append((digest, title, html))
        return entries

    def item_title(self, item: tuple[Digest, str, str]) -> str:
        return item[1]

    def item_description(self, item: tuple[Digest, str, str]) -> str:
        return item[2]

    def item_link(self, item: tuple[Digest, str, str]) -> str:
        return settings.SITE_URL + item[0].get_absolute_url()

    def item_pubdate(self, item: tuple[Digest, str, str]) -> Any:
        return item[0].published_at

    def item_updateddate(self, item: tuple[Digest, str, str]) -> Any:
        return item[0].edited_at or item[0].published_at


digest_feed = DigestFeed()
