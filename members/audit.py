"""The community audit log's vocabulary (the log itself is ``members.CommunityAuditLog``).

``members`` keeps the log and names only its own events: communities, settings, the privacy
phase and memberships. Every other app that writes to the log names its events in its own
``audit`` module (``questions.audit``, ``rewards.audit`` for money, ``rotation.audit``) and
registers them from its ``AppConfig.ready``, so the log can say what happened without
``members`` knowing about money, digests or shifts. An event's value is what is stored; a
value is registered once, by one app.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    COMMUNITY_CREATED = "community_created", _("Community created")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    PHASE_CHANGED = "phase_changed", _("Privacy phase changed")
    MEMBER_ADDED = "member_added", _("Member added")
    ROLE_CHANGED = "role_changed", _("Role changed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    MEMBERS_IMPORTED = "members_imported", _("Members imported")
    INVITE_LINK_CREATED = "invite_link_created", _("Invite link created")
    INVITE_LINK_REVOKED = "invite_link_revoked", _("Invite link revoked")
    TAG_RENAMED = "tag_renamed", _("Tag renamed")
    TAG_MERGED = "tag_merged", _("Tags merged")


MAX_LENGTH = 32

_labels: dict[str, Promise | str] = {}
_owners: dict[str, str] = {}


def register(events: type[models.TextChoices], owner: str) -> None:
    """Make ``events`` known to the log; ``owner`` is the app that writes them."""
    for event in events:
        value = str(event.value)
        if len(value) > MAX_LENGTH:
            raise ImproperlyConfigured(f"Audit event {value!r} is longer than {MAX_LENGTH}.")
        if _owners.get(value, owner) != owner:
            raise ImproperlyConfigured(
                f"Audit event {value!r} is named by both {_owners[value]} and {owner}."
            )
        _owners[value] = owner
        _labels[value] = event.label


def label(value: str) -> Promise | str:
    """What an event is called, in the active language (the value itself if unknown)."""
    return _labels.get(value, value)


def owner(value: str) -> str | None:
    return _owners.get(value)


def choices() -> list[tuple[str, Promise | str]]:
    return sorted(_labels.items())


register(Event, "members")
