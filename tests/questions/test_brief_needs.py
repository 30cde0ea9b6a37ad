"""A brief's "skills it needs" is the tag picker over the community's vocabulary: offered by
the name in the reader's language, and accepting a tag by any of its names."""

from __future__ import annotations

from django.test import Client
from django.utils import translation

from members.models import Tag
from questions.models import Question
from tests.factories import add_member, make_community

BRIEF = {"title": "如何设计新手引导？", "background": "留存低。", "wanted": "方法", "draft": "1"}


def _community() -> tuple[Tag, Client]:
    community = make_community(slug="needs")
    skill = Tag.objects.create(
        community=community,
        kind=Tag.Kind.SKILL,
        name="用户访谈",
        name_en="User interviews",
        name_zh="用户访谈",
    )
    asker = add_member(community, profile={"handle": "asker"})
    client = Client()
    client.force_login(asker.user)
    return skill, client


def test_the_brief_form_offers_the_skills_in_a_picker_by_the_readers_language(db: None) -> None:
    _skill, client = _community()
    page = client.get("/c/needs/questions/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-tag-picker" in page
    assert "js/picker.js" in page
    assert "User interviews" in page
    assert 'data-names="用户访谈 User interviews"' in page  # either name finds it


def test_a_brief_takes_a_needed_skill_by_its_other_languages_name(db: None) -> None:
    skill, client = _community()
    response = client.post("/c/needs/questions/new/", {**BRIEF, "needs": ["User interviews"]})
    assert response.status_code == 302
    assert list(Question.objects.get().needs.all()) == [skill]


def test_an_unknown_skill_is_refused_next_to_the_field_and_nothing_is_saved(db: None) -> None:
    _skill, client = _community()
    with translation.override("en"):
        response = client.post("/c/needs/questions/new/", {**BRIEF, "needs": ["Underwater"]})
    assert response.status_code == 200
    assert response.context["form"].errors["needs"]
    assert not Question.objects.exists()
