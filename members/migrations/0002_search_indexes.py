"""GIN indexes for directory search on PostgreSQL (see members/search.py).

Other databases (the embedded SQLite default) search with LIKE and need nothing here.
"""

from django.db import migrations

from members.search import POSTGRES_FUNCTION

INDEXES = (
    ("members_profile_search_gin", "search_document"),
    ("members_profile_full_search_gin", "full_search_document"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(POSTGRES_FUNCTION)
    for name, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON members_profile "
            f"USING gin (members_search_tsvector({column}))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS members_search_tsvector(text)")


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
