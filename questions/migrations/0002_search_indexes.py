"""GIN indexes for question and answer search on PostgreSQL (see members/search.py)."""

from django.db import migrations

from members.search import gin_index


class Migration(migrations.Migration):
    dependencies = [("questions", "0001_initial")]

    operations = [
        gin_index("questions_question", "search_document", "questions_question_search_gin"),
        gin_index("questions_answer", "search_document", "questions_answer_search_gin"),
    ]
