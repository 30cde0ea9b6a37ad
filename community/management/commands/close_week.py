"""``python manage.py close_week SLUG [--week 2026-W48]``: close a community's week by hand.

Runs the same pipeline as the beat job (community/weekly.py): every week not yet closed up to
the one given (default: the last that has ended) is closed, in order. Idempotent: a week
already closed is left as it is. A week that has not ended, an unknown community or week:
exits non-zero and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from community import weekly
from members import weeks
from members.models import Community
from rewards.models import WeekClose


class Command(BaseCommand):
    help = (
        "Close a community's week (default: the last one that has ended): votes, prizes, rollover."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the community's address, e.g. product-circle")
        parser.add_argument("--week", help="the week to close, e.g. 2026-W48")

    def handle(self, *args: Any, **options: Any) -> None:
        community = Community.objects.filter(slug=options["slug"]).first()
        if community is None:
            raise CommandError(f"No community {options['slug']!r}.")
        try:
            week = (
                weeks.parse(community, options["week"])
                if options["week"]
                else weekly.last_ended_week(community)
            )
            pipelines = weekly.close_through(community=community, week=week)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except weekly.WeekCloseError as exc:
            raise CommandError(f"A step failed (run again to resume): {exc}") from None
        if not pipelines:
            self.stdout.write(f"{weeks.label(week)} is already closed.")
        closes = {c.week: c for c in WeekClose.objects.filter(community=community, week__lte=week)}
        for pipeline in pipelines:
            close = closes.get(pipeline.week)
            line = f"closed {weeks.label(pipeline.week)}"
            if close is not None:
                line += (
                    f": reward budget {close.reward_budget}, paid {close.reward_paid}, "
                    f"rolled over {close.reward_rollover_out}"
                )
            self.stdout.write(line)
