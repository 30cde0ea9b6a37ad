"""GIN indexes for directory search on PostgreSQL, where the search documents are tsvector
columns (see members/search.py). SQLite searches with LIKE and needs nothing here."""

from django.db import migrations

INDEXES = (
    ("members_profile_search_gin", "search_document"),
    ("members_profile_full_search_gin", "full_search_document"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON members_profile USING gin ({column})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
