"""Rotation notices by e-mail, once each, in the recipient's language; and the beat's tick."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from members import mail
from members.models import Community
from rotation import services
from rotation.models import Notice

logger = logging.getLogger(__name__)


def email(notice_id: int) -> bool:
    """Send one notice's e-mail; a notice e-mailed already is not sent again."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("community", "recipient__user")
            .filter(pk=notice_id, emailed_at__isnull=True)
            .first()
        )
        if notice is None or not notice.recipient.user.email:
            return False
        mail.send_to(
            notice.recipient.user,
            subject="rotation/email/notice_subject.txt",
            body="rotation/email/notice_body.txt",
            context={
                "n": notice,
                "url": settings.SITE_URL
                + reverse("rotation:roster", kwargs={"slug": notice.community.slug}),
                "console_url": settings.SITE_URL
                + reverse("rotation:console", kwargs={"slug": notice.community.slug}),
            },
        )
        notice.emailed_at = timezone.now()
        notice.save(update_fields=["emailed_at"])
    return True


def tick_all() -> int:
    """Run the rotation's tick for every community; one failing does not stop the rest."""
    done = 0
    for community in Community.objects.order_by("pk"):
        try:
            services.rotation_tick(community=community)
            services.shifts_digest_record(community=community)
        except Exception:  # a failure is logged; the next tick tries again
            logger.exception("Rotation tick failed for %s", community.slug)
            continue
        done += 1
    return done
