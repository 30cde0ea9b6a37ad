"""The money events of the community audit log (members.audit keeps the log's vocabulary;
this app names what it writes there and registers it in RewardsConfig.ready)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    PAYMENT_RECORDED = "payment_recorded", _("Payment recorded")
    PAYMENT_REVERSED = "payment_reversed", _("Payment refunded or reversed")
    WEEK_CLOSED = "week_closed", _("Week closed")
    PRIZE_VOIDED = "prize_voided", _("Prize voided")
    PAYOUT_RECORDED = "payout_recorded", _("Payout recorded")
    PAYOUT_FAILED = "payout_failed", _("Payout failed or reversed")
