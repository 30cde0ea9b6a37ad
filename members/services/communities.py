"""Communities: creating them, changing their rules, the one-way switch to the growth phase,
and the audit log every role, status, settings and phase change writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import cached, selectors
from members.audit import Event
from members.models import Community, CommunityAuditLog, Membership, Tag, User
from members.reactions import reactions
from members.services.profiles import profile_create

Role = Membership.Role
Status = Membership.Status

COMMUNITY_RULE_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "currency",
    "entrance_fee",
    "monthly_fee",
    "time_zone",
    "week_start",
    "privacy_threshold",
    "votes_per_member",
    "voting_opens_weekday",
    "voting_opens_time",
    "winners_per_week",
    "prize_split",
    "brief_lead_days",
    "grace_days",
    "tip_fee_percent",
    "payout_hold_hours",
    "moderator_target_answerers",
    "moderator_target_quality",
    "pay_by_alipay",
    "pay_by_wechat_pay",
)


def _default_vocabulary() -> dict[str, list[str]]:
    # The article's own examples (SPEC §2.1), in the language of the person creating it.
    return {
        Tag.Kind.SKILL: [
            _("Channel and resource integration"),
            _("Planning"),
            _("Copywriting"),
            _("Interaction design"),
            _("Structured thinking"),
        ],
        Tag.Kind.NEED: [
            _("Cross-industry information"),
            _("Solving a work problem"),
            _("Hot topics"),
            _("Product and operations technique"),
            _("Guidance"),
            _("Job seeking"),
            _("Hiring"),
        ],
    }


def audit(
    *,
    community: Community,
    event: str,
    actor: User | None,
    membership: Membership | None = None,
    data: Mapping[str, Any] | None = None,
) -> CommunityAuditLog:
    return CommunityAuditLog.objects.create(
        community=community, event=event, actor=actor, membership=membership, data=dict(data or {})
    )


def community_create(*, creator: User, slug: str, name: str, **rules: Any) -> Community:
    """Create a community; ``creator`` becomes its first organiser."""
    unknown = set(rules) - set(COMMUNITY_RULE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    community = Community(slug=(slug or "").strip().lower(), name=(name or "").strip(), **rules)
    community.full_clean()
    try:
        with transaction.atomic():
            community.save()
            membership = Membership.objects.create(
                user=creator,
                community=community,
                role=Role.ORGANISER,
                status=Status.ACTIVE,
                joined_via=Membership.JoinedVia.FOUNDED,
                activated_at=timezone.now(),
            )
            profile_create(membership=membership)
            Tag.objects.bulk_create(
                Tag(community=community, kind=kind, name=tag_name)
                for kind, names in _default_vocabulary().items()
                for tag_name in names
            )
            audit(
                community=community,
                event=Event.COMMUNITY_CREATED,
                actor=creator,
                membership=membership,
                data={"slug": community.slug},
            )
            sync_phase(community=community)
    except IntegrityError:
        # Another request took the address between full_clean() and save().
        raise ValidationError({"slug": _("This address is taken.")}, code="unique") from None
    return community


def community_update(
    *, actor: Membership, community: Community, changes: Mapping[str, Any]
) -> Community:
    """Change a community's rules (and, one way, its phase). Call as an organiser."""
    changes = dict(changes)
    phase = changes.pop("phase", None)
    unknown = set(changes) - set(COMMUNITY_RULE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed.") for f in sorted(unknown)})
    with transaction.atomic():
        locked = Community.objects.select_for_update().get(pk=community.pk)
        before = {f: getattr(locked, f) for f in changes}
        if changes.get("currency", locked.currency) != locked.currency and (
            reactions.holds_money(locked)  # the money app's ledger (wired by community/)
        ):
            raise ValidationError(
                {
                    "currency": _(
                        "The ledger already holds money in %(currency)s; the currency cannot "
                        "change any more."
                    )
                    % {"currency": locked.currency}
                },
                code="money_exists",
            )
        calendar = {
            name
            for name in ("week_start", "time_zone")
            if name in changes and changes[name] != getattr(locked, name)
        }
        if calendar and locked.week_closes.exists():  # closed weeks (rewards.WeekClose)
            # Weeks close in order and each one's rollover flows into the next: moving the
            # week's start would leave a week that never closes.
            raise ValidationError(
                {
                    name: _(
                        "Weeks have been closed already; the week's start and the time zone "
                        "cannot change any more."
                    )
                    for name in sorted(calendar)
                },
                code="weeks_closed",
            )
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean()
        if phase is not None:
            _validate_phase_change(community=locked, phase=phase)
        diff = {
            f: [before[f], getattr(locked, f)] for f in changes if before[f] != getattr(locked, f)
        }
        locked.save()
        if diff:
            audit(
                community=locked,
                event=Event.SETTINGS_CHANGED,
                actor=actor.user,
                membership=actor,
                data={"changes": diff},
            )
        if phase == Community.Phase.GROWTH and locked.phase == Community.Phase.SEED:
            _enter_growth(community=locked, actor=actor.user, reason="organiser")
        sync_phase(community=locked)
        slug = locked.slug
        transaction.on_commit(lambda: cached.landing_forget(slug))
    return locked


def _validate_phase_change(*, community: Community, phase: object) -> None:
    if phase not in Community.Phase.values:
        raise ValidationError({"phase": _("Choose seed or growth.")}, code="invalid")
    if phase == Community.Phase.SEED and community.phase == Community.Phase.GROWTH:
        raise ValidationError(
            {"phase": _("A community in the growth phase cannot go back to the seed phase.")},
            code="one_way",
        )


def community_enter_growth(*, actor: Membership, community: Community) -> Community:
    """The organiser's switch to the growth phase (one way)."""
    return community_update(actor=actor, community=community, changes={"phase": "growth"})


def _enter_growth(*, community: Community, actor: User | None, reason: str) -> None:
    """Call with the community row locked."""
    community.phase = Community.Phase.GROWTH
    community.phase_changed_at = timezone.now()
    community.save(update_fields=["phase", "phase_changed_at", "updated_at"])
    slug = community.slug
    transaction.on_commit(lambda: cached.landing_forget(slug))  # it names the phase
    audit(
        community=community,
        event=Event.PHASE_CHANGED,
        actor=actor,
        data={
            "from": Community.Phase.SEED,
            "to": Community.Phase.GROWTH,
            "reason": reason,
            "active_members": selectors.active_member_count(community=community),
            "threshold": community.privacy_threshold,
        },
    )


def sync_phase(*, community: Community) -> None:
    """Enter the growth phase once active membership reaches the threshold.

    Call with the community row locked (or just created), so two joins cannot both miss it.
    """
    if community.phase != Community.Phase.SEED:
        return
    if selectors.active_member_count(community=community) >= community.privacy_threshold:
        _enter_growth(community=community, actor=None, reason="threshold")


def community_sync_phase(*, community_id: int) -> Community | None:
    """Idempotent check of the automatic phase switch, for tasks and other apps."""
    with transaction.atomic():
        community = Community.objects.select_for_update().filter(pk=community_id).first()
        if community is not None:
            sync_phase(community=community)
    return community
