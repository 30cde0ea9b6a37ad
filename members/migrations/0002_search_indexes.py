"""GIN indexes for directory search on PostgreSQL, where the search documents are tsvector
columns (see members/search.py). SQLite searches with LIKE and needs nothing here."""

from django.db import migrations

from members.search import gin_index


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [
        gin_index("members_profile", "search_document", "members_profile_search_gin"),
        gin_index("members_profile", "full_search_document", "members_profile_full_search_gin"),
    ]
