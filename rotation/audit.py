"""The rotation's events in the community audit log (registered in RotationConfig.ready)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    ROSTER_JOINED = "roster_joined", _("Signed up to moderate")
    ROSTER_LEFT = "roster_left", _("Withdrew from the moderator roster")
    ROSTER_REMOVED = "roster_removed", _("Removed from the moderator roster")
    SHIFTS_SWAPPED = "shifts_swapped", _("Moderator shifts swapped")
    MODERATOR_PAY_ADJUSTED = "moderator_pay_adjusted", _("Moderator pay adjusted")
