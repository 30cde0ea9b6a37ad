"""The weekly pipeline's bookkeeping: one row per community and week, one per step of it.

The steps themselves belong to the apps (community/weekly.py calls them in order); these rows
say which ran, when, and how it ended, so a second run or a resume after a crash skips what
is done.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Community


class WeekPipeline(models.Model):
    """The close of one community's week."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    week = models.DateField(_("week (first day)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("week close")
        verbose_name_plural = _("week closes")
        ordering = ["-week", "community"]
        constraints = [
            models.UniqueConstraint(fields=["community", "week"], name="community_pipeline_once"),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed"]),
                name="community_pipeline_state_valid",
            ),
        ]
        indexes = [models.Index(fields=["state", "community", "week"])]

    def __str__(self) -> str:
        return f"{self.community_id} {self.week:%Y-%m-%d} ({self.state})"


class WeekPipelineStep(models.Model):
    """One step of a week's close, recorded once: ``(community, week, step)``."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Nothing to do (not built yet)")
        FAILED = "failed", _("Failed")

    pipeline = models.ForeignKey(
        WeekPipeline, on_delete=models.CASCADE, related_name="steps", verbose_name=_("week close")
    )
    step = models.CharField(_("step"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("week close step")
        verbose_name_plural = _("week close steps")
        ordering = ["pipeline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "step"], name="community_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.step} ({self.state})"
