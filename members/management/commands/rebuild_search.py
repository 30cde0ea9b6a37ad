"""Rebuild every profile's search documents, e.g. after the tokeniser changed.

    python manage.py rebuild_search [--community SLUG]

Idempotent; works in batches, each in its own transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from members import privacy
from members.models import Profile

BATCH = 1000


class Command(BaseCommand):
    help = "Rebuild the search documents of all profiles (or one community's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", help="only this community's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        profiles = Profile.objects.order_by("pk")
        if options["community"]:
            profiles = profiles.filter(community__slug=options["community"])
        last, done = 0, 0
        while True:
            with transaction.atomic():
                batch = list(
                    profiles.filter(pk__gt=last)
                    .select_related("membership")
                    .prefetch_related("tags")
                    .select_for_update(of=("self",))[:BATCH]
                )
                if not batch:
                    break
                for profile in batch:
                    docs = privacy.search_documents(profile, profile.tags.all())
                    profile.search_document, profile.full_search_document = docs
                Profile.objects.bulk_update(batch, ["search_document", "full_search_document"])
            last, done = batch[-1].pk, done + len(batch)
        self.stdout.write(f"Rebuilt the search documents of {done} profiles.")
