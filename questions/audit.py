"""The questions app's events in the community audit log (registered in
QuestionsConfig.ready)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    DIGEST_PUBLISHED = "digest_published", _("Digest published")
    DIGEST_EDITED = "digest_edited", _("Published digest edited")
