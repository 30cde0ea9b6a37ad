"""Background jobs of the members app. Tasks take ids, tolerate missing rows, are idempotent."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from members import mail
from members.models import Community, Membership


@shared_task(ignore_result=True)
def send_member_added_email(membership_id: int, new_account: bool) -> None:
    """Tell someone an organiser added them; a new account gets a link to set its password.

    The message names only the community and the recipient's own account (no other member).
    """
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user", "community")
            .filter(pk=membership_id, welcomed_at__isnull=True)
            .first()
        )
        if membership is None or not membership.user.email:
            return  # gone, or already welcomed: running twice sends one e-mail
        _welcome(membership, new_account)
        membership.welcomed_at = timezone.now()
        membership.save(update_fields=["welcomed_at"])


def _welcome(membership: Membership, new_account: bool) -> None:
    user = membership.user
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": False}
    )
    context = {
        "community": membership.community,
        "community_url": settings.SITE_URL + membership.community.get_absolute_url(),
        "new_account": new_account,
        "set_password_url": "",
    }
    if new_account and not user.has_usable_password():
        context["set_password_url"] = settings.SITE_URL + reverse(
            "account_reset_password_from_key",
            kwargs={
                "uidb36": user_pk_to_url_str(user),
                "key": default_token_generator.make_token(user),
            },
        )
    mail.send_to(
        user,
        subject="members/email/member_added_subject.txt",
        body="members/email/member_added_body.txt",
        context=context,
    )


@shared_task(ignore_result=True)
def sync_community_phases() -> None:
    """Beat safety net for the automatic phase switch; a no-op when nothing is due."""
    from members import services

    for community_id in Community.objects.filter(phase=Community.Phase.SEED).values_list(
        "pk", flat=True
    ):
        services.community_sync_phase(community_id=community_id)


@shared_task(ignore_result=True)
def outbox_relay() -> int:
    """Beat: relay every outbox row not sent yet, in batches, stopping at a broker error;
    delete rows sent more than a week ago (members/outbox.py)."""
    from members import outbox

    outbox.purge()
    total = 0
    while True:
        sent = outbox.relay()
        total += sent
        if sent < outbox.BATCH:
            return total
