"""Who may read, curate and publish digests, through the one set of role rules in
members.access (``access_*``: 404 for what the caller may not know of, 403 otherwise).

- Readers (active or lapsed members, moderators, organisers) read published digests;
  candidates read them too, but only their challenge questions.
- That week's moderator (while an active member) and the community's organisers curate,
  preview, test and publish, and read the draft.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from members import access as member_access
from members import weeks
from members.access import AnyUser
from members.models import Membership
from questions.digests.models import Digest


def may_curate(viewer: Membership | None, digest: Digest) -> bool:
    if viewer is None or viewer.community_id != digest.community_id:
        return False
    if member_access.is_organiser(viewer):
        return True
    return digest.moderator_id == viewer.pk and member_access.is_writer(viewer)


def challenges_only(viewer: Membership | None) -> bool:
    """A candidate reads only the challenge questions of a digest."""
    return member_access.is_candidate(viewer)


def may_read_archive(viewer: Membership | None) -> bool:
    return member_access.is_reader(viewer) or member_access.is_candidate(viewer)


def may_read(viewer: Membership | None, digest: Digest) -> bool:
    if may_curate(viewer, digest):
        return True
    return digest.is_published and may_read_archive(viewer)


def access_archive(*, user: AnyUser, slug: str) -> Membership:
    return member_access.access_as(
        user=user,
        slug=slug,
        rule=may_read_archive,
        message=_("The digests are for the community's members."),
    )


def _digest(viewer: Membership, label: str) -> Digest:
    try:
        week = weeks.parse(viewer.community, label)
    except ValidationError:
        raise Http404(_("Write a week as 2026-W48.")) from None
    digest = Digest.objects.filter(community=viewer.community, week=week).first()
    if digest is None:
        raise Http404(_("There is no digest of that week."))
    digest.community = viewer.community
    return digest


def access_digest(*, user: AnyUser, slug: str, label: str) -> tuple[Membership, Digest]:
    """A digest the caller may read; a draft they may not curate is not there (404)."""
    viewer = access_archive(user=user, slug=slug)
    digest = _digest(viewer, label)
    if not may_read(viewer, digest):
        raise Http404(_("There is no digest of that week."))
    return viewer, digest


def access_curation(*, user: AnyUser, slug: str, label: str) -> tuple[Membership, Digest]:
    viewer = access_archive(user=user, slug=slug)
    digest = _digest(viewer, label)
    if not may_curate(viewer, digest):
        raise PermissionDenied(
            _("Only that week's moderator and the community's organisers may curate its digest.")
        )
    return viewer, digest


def access_digest_by_id(*, user: AnyUser, digest_id: int) -> tuple[Membership, Digest]:
    """The API's digest: 404 unless the caller may read it."""
    digest = Digest.objects.select_related("community").filter(pk=digest_id).first()
    if digest is None:
        raise Http404(_("Not found."))
    viewer = member_access.membership_of(user=user, community=digest.community)
    if viewer is None or not may_read(viewer, digest):
        raise Http404(_("Not found."))
    return viewer, digest


def access_digest_curation_by_id(*, user: AnyUser, digest_id: int) -> tuple[Membership, Digest]:
    viewer, digest = access_digest_by_id(user=user, digest_id=digest_id)
    if not may_curate(viewer, digest):
        raise PermissionDenied(
            _("Only that week's moderator and the community's organisers may curate its digest.")
        )
    return viewer, digest
