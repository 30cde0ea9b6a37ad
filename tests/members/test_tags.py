"""One vocabulary in two languages (issue 12): a tag's names per language, finding members by
either name (search, filters, the matcher), organisers renaming and merging tags, the picker."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from community.management.commands import demo
from members import selectors
from members.audit import Event
from members.models import Community, CommunityAuditLog, Membership, Profile, Tag
from members.services import tags as tag_services
from tests.factories import add_member, make_community, organiser_of

pytestmark = pytest.mark.django_db

SLUG = "circle"
PORTAL = f"/c/{SLUG}"


# The default vocabulary (created in English here) as an organiser names it in Chinese too.
CHINESE = {
    "Interaction design": "交互设计",
    "Copywriting": "文案",
    "Planning": "策划",
    "Hot topics": "热点话题",
    "Hiring": "招聘",
}


def name_in_both_languages(community: Community) -> None:
    for english, chinese in CHINESE.items():
        Tag.objects.filter(community=community, name=english).update(
            name_en=english, name_zh=chinese
        )


@pytest.fixture
def community() -> Community:
    community = make_community(slug=SLUG)
    name_in_both_languages(community)
    return community


def _skill(community: Community, name: str) -> Tag:
    return Tag.objects.get(community=community, kind=Tag.Kind.SKILL, name=name)


def _profile_tags(membership: Membership) -> list[str]:
    return sorted(Profile.objects.get(membership=membership).tags.values_list("name", flat=True))


# --- names per language ----------------------------------------------------------------------


def test_a_tag_shows_the_active_languages_name_with_the_canonical_as_fallback() -> None:
    tag = Tag(name="交互设计", name_en="Interaction design", name_zh="")
    with translation.override("en"):
        assert tag.label() == "Interaction design"
    with translation.override("zh-hans"):
        assert tag.label() == "交互设计"
    assert Tag(name="SQL").label("en") == "SQL"
    assert tag.names == ["交互设计", "Interaction design"]


def test_names_are_unique_per_community_and_kind_in_each_language(community: Community) -> None:
    other = make_community(slug="other")
    # the same English name in another community, or for another kind, is fine
    Tag.objects.create(community=other, kind=Tag.Kind.SKILL, name="x", name_en="UX design")
    Tag.objects.create(community=community, kind=Tag.Kind.SKILL, name="x", name_en="UX design")
    Tag.objects.create(
        community=community, kind=Tag.Kind.HOBBY, name="y", name_en="interaction design"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(community=community, kind=Tag.Kind.SKILL, name="z", name_en="UX DESIGN")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(community=community, kind=Tag.Kind.SKILL, name="w", name_zh="交互设计")
    # empty names do not collide with each other
    Tag.objects.create(community=community, kind=Tag.Kind.SKILL, name="a")
    Tag.objects.create(community=community, kind=Tag.Kind.SKILL, name="b")


def test_resolving_tags_accepts_any_name_in_any_case_and_returns_each_tag_once(
    community: Community,
) -> None:
    tag = _skill(community, "Interaction design")
    found = selectors.tags_by_names(
        community=community,
        kind=Tag.Kind.SKILL,
        names=["交互设计", "interaction DESIGN"],
        field_name="skills",
    )
    assert found == [tag]
    with pytest.raises(ValidationError) as exc:
        selectors.tags_by_names(
            community=community, kind=Tag.Kind.SKILL, names=["热点话题"], field_name="skills"
        )
    assert "热点话题" in exc.value.message_dict["skills"][0]  # a need, not a skill


def test_a_member_tagging_in_chinese_carries_the_same_tag(community: Community) -> None:
    member = add_member(community, profile={"skills": ["交互设计"]}, create_tags=False)
    assert _profile_tags(member) == ["Interaction design"]


def test_a_new_word_that_is_another_tags_translation_is_refused(community: Community) -> None:
    from members import services

    member = add_member(community)
    before = Tag.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.tag_create(membership=member, kind="skill", name="交互设计")
    assert exc.value.message_dict == {"name": ["This tag is already in the vocabulary."]}
    assert Tag.objects.count() == before


# --- search, filters and the matcher in either language --------------------------------------


def _bilingual_world(community: Community) -> tuple[Membership, Membership, Membership]:
    zh = add_member(community, profile={"handle": "zh-designer", "skills": ["交互设计"]})
    en = add_member(community, profile={"handle": "en-designer", "skills": ["Interaction design"]})
    other = add_member(community, profile={"handle": "writer", "skills": ["Copywriting"]})
    return zh, en, other


@pytest.mark.parametrize("query", ["交互设计", "interaction", "Interaction design", "交互"])
def test_a_search_in_either_language_finds_members_whichever_language_they_tagged_in(
    community: Community, query: str
) -> None:
    _bilingual_world(community)
    found = selectors.directory(
        viewer=organiser_of(community),
        community=community,
        filters=selectors.DirectoryFilters(q=query),
    )
    assert sorted(p.handle for p in found) == ["en-designer", "zh-designer"]


def test_the_directory_filter_and_the_matcher_take_either_name(community: Community) -> None:
    _bilingual_world(community)
    found = selectors.directory(
        viewer=organiser_of(community),
        community=community,
        filters=selectors.DirectoryFilters(skills=["交互设计"]),
    )
    assert sorted(p.handle for p in found) == ["en-designer", "zh-designer"]
    ranked = selectors.matcher(community=community, tag_names=["interaction design", "文案"])
    assert [(p.handle, p.score) for p in ranked] == [
        ("en-designer", 1),
        ("writer", 1),
        ("zh-designer", 1),
    ]


def test_the_directory_page_shows_tags_in_the_readers_language(
    community: Community, client: Client
) -> None:
    _bilingual_world(community)
    client.force_login(organiser_of(community).user)
    zh_page = client.get(f"{PORTAL}/members/", {"q": "interaction"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    en_page = client.get(f"{PORTAL}/members/", {"q": "交互"}, HTTP_ACCEPT_LANGUAGE="en")
    assert zh_page.status_code == en_page.status_code == 200
    assert '<span class="tag">交互设计</span>' in zh_page.content.decode()
    assert '<span class="tag">Interaction design</span>' in en_page.content.decode()
    assert "zh-designer" in zh_page.content.decode()
    assert "en-designer" in en_page.content.decode()


def test_the_api_keeps_canonical_names(community: Community) -> None:
    member = add_member(community, profile={"skills": ["交互设计"]})
    api = APIClient()
    api.force_authenticate(member.user)
    me = api.get(f"/api/v1/communities/{SLUG}/members/me/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert me.json()["skills"] == ["Interaction design"]
    tags = api.get(f"/api/v1/communities/{SLUG}/tags/").json()
    assert {"kind": "skill", "name": "Interaction design"}.items() <= next(
        t for t in tags if t["name"] == "Interaction design"
    ).items()


def test_the_portal_filter_and_matcher_take_a_name_in_either_language(
    community: Community, client: Client
) -> None:
    _bilingual_world(community)
    client.force_login(organiser_of(community).user)
    directory = client.get(f"{PORTAL}/members/", {"skill": "交互设计"})
    assert [c.handle for c in directory.context["page"].object_list] == [
        "en-designer",
        "zh-designer",
    ]
    matched = client.get(f"{PORTAL}/matcher/", {"tags": ["INTERACTION design"]})
    assert [p.handle for _score, p in matched.context["results"]] == [
        "en-designer",
        "zh-designer",
    ]
    unknown = client.get(f"{PORTAL}/members/", {"skill": "设计"}, HTTP_ACCEPT_LANGUAGE="en")
    assert unknown.context["form"].errors["skill"]


# --- renaming --------------------------------------------------------------------------------


def test_an_organiser_names_a_tag_and_a_search_finds_it_by_the_new_name(
    community: Community,
) -> None:
    member = add_member(community, profile={"handle": "pythonista", "skills": ["Python"]})
    tag = _skill(community, "Python")
    organiser = organiser_of(community)
    tag_services.tag_rename(actor=organiser, tag_id=tag.pk, name="Python", name_zh="派森")
    tag.refresh_from_db()
    assert (tag.name, tag.name_en, tag.name_zh) == ("Python", "", "派森")
    found = selectors.directory(
        viewer=member, community=community, filters=selectors.DirectoryFilters(q="派森")
    )
    assert [p.handle for p in found] == ["pythonista"]
    row = CommunityAuditLog.objects.get(community=community, event=Event.TAG_RENAMED)
    assert row.actor == organiser.user
    assert row.data["after"]["name_zh"] == "派森"


@pytest.mark.parametrize(
    ("names", "field"),
    [
        ({"name": "Planning", "name_zh": "交互设计"}, "name_zh"),  # Interaction design's
        ({"name": "Planning", "name_en": "copywriting"}, "name_en"),  # another tag's name
        ({"name": "", "name_en": "Plans"}, "name"),
        ({"name": "Planning", "name_en": "a,b"}, "name_en"),
    ],
)
def test_a_rename_that_clashes_or_is_malformed_changes_nothing(
    community: Community, names: dict[str, str], field: str
) -> None:
    tag = _skill(community, "Planning")
    before = (tag.name, tag.name_en, tag.name_zh)
    with pytest.raises(ValidationError) as exc:
        tag_services.tag_rename(actor=organiser_of(community), tag_id=tag.pk, **names)
    assert list(exc.value.message_dict) == [field]
    tag.refresh_from_db()
    assert (tag.name, tag.name_en, tag.name_zh) == before
    assert not CommunityAuditLog.objects.filter(event=Event.TAG_RENAMED).exists()


# --- merging ---------------------------------------------------------------------------------


def test_merging_moves_members_once_deletes_the_tag_and_keeps_an_audit_row(
    community: Community,
) -> None:
    # given a duplicate of "Hot topics" that some members carry, one of them both
    organiser = organiser_of(community)
    dup = Tag.objects.create(community=community, kind=Tag.Kind.NEED, name="热点")
    target = Tag.objects.get(community=community, kind=Tag.Kind.NEED, name="Hot topics")
    only_dup = add_member(community, profile={"handle": "a", "needs": ["热点"]})
    both = add_member(community, profile={"handle": "b", "needs": ["热点", "Hot topics", "Hiring"]})
    neither = add_member(community, profile={"handle": "c", "needs": ["Hiring"]})
    # when
    merged = tag_services.tag_merge(actor=organiser, source_id=dup.pk, target_id=target.pk)
    # then
    assert merged == target
    assert not Tag.objects.filter(pk=dup.pk).exists()
    assert _profile_tags(only_dup) == ["Hot topics"]
    assert _profile_tags(both) == ["Hiring", "Hot topics"]
    assert _profile_tags(neither) == ["Hiring"]
    row = CommunityAuditLog.objects.get(community=community, event=Event.TAG_MERGED)
    assert row.actor == organiser.user
    assert row.data["source"]["name"] == "热点"
    assert row.data["target"]["id"] == target.pk
    assert row.data["moved"] == {"members.Profile": 2}
    # the search documents follow: the filter on the target finds both
    found = selectors.directory(
        viewer=organiser,
        community=community,
        filters=selectors.DirectoryFilters(needs=["热点话题"]),
    )
    assert sorted(p.handle for p in found) == ["a", "b"]


def test_merging_keeps_the_sources_name_in_a_language_the_target_had_none_for(
    community: Community,
) -> None:
    source = Tag.objects.create(
        community=community, kind=Tag.Kind.SKILL, name="派森", name_zh="派森"
    )
    target = _skill(community, "Planning")
    Tag.objects.filter(pk=target.pk).update(name_zh="")
    tag_services.tag_merge(actor=organiser_of(community), source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert (target.name, target.name_en, target.name_zh) == ("Planning", "Planning", "派森")


def test_merging_moves_the_needs_of_questions_too(community: Community) -> None:
    from questions.models import Question

    organiser = organiser_of(community)
    source = Tag.objects.create(community=community, kind=Tag.Kind.SKILL, name="UX")
    target = _skill(community, "Interaction design")
    question = Question.objects.create(
        community=community, asker=organiser, title="How?", background="", wanted=""
    )
    question.needs.set([source])
    tag_services.tag_merge(actor=organiser, source_id=source.pk, target_id=target.pk)
    assert list(question.needs.all()) == [target]


@pytest.mark.parametrize(
    ("source", "target", "field"),
    [
        ("Planning", "Planning", "target"),
        ("Planning", "Hiring", "target"),  # a skill into a need
        ("Planning", "elsewhere", "target"),  # another community's tag
        ("elsewhere", "Planning", "source"),
        ("Planning", "nope", "target"),
    ],
)
def test_a_bad_merge_changes_nothing(
    community: Community, source: str, target: str, field: str
) -> None:
    other = make_community(slug="elsewhere")
    ids = {
        "Planning": _skill(community, "Planning").pk,
        "Hiring": Tag.objects.get(community=community, name="Hiring").pk,
        "elsewhere": _skill(other, "Planning").pk,
        "nope": "x",
    }
    member = add_member(community, profile={"skills": ["Planning"]})
    count = Tag.objects.count()
    with pytest.raises(ValidationError) as exc:
        tag_services.tag_merge(
            actor=organiser_of(community), source_id=ids[source], target_id=ids[target]
        )
    assert field in exc.value.message_dict
    assert Tag.objects.count() == count
    assert _profile_tags(member) == ["Planning"]
    assert not CommunityAuditLog.objects.filter(event=Event.TAG_MERGED).exists()


# --- the organisers' page --------------------------------------------------------------------


def test_only_organisers_reach_the_tag_page(community: Community, client: Client) -> None:
    moderator = add_member(community, role=Membership.Role.MODERATOR)
    client.force_login(moderator.user)
    assert client.get(f"{PORTAL}/tags/manage/").status_code == 403
    assert client.post(f"{PORTAL}/tags/manage/", {"action": "merge"}).status_code == 403
    client.force_login(organiser_of(community).user)
    page = client.get(f"{PORTAL}/tags/manage/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "交互设计" in page.content.decode()
    settings_page = client.get(f"{PORTAL}/settings/")
    assert 'id="tag-manage-link"' in settings_page.content.decode()


def test_the_page_merges_two_tags(community: Community, client: Client) -> None:
    dup = Tag.objects.create(community=community, kind=Tag.Kind.NEED, name="热点")
    member = add_member(community, profile={"needs": ["热点"]})
    target = Tag.objects.get(community=community, kind=Tag.Kind.NEED, name="Hot topics")
    client.force_login(organiser_of(community).user)
    response = client.post(
        f"{PORTAL}/tags/manage/",
        {"action": "merge", "merge-source": dup.pk, "merge-target": target.pk},
    )
    assert response.status_code == 302
    assert _profile_tags(member) == ["Hot topics"]


def test_a_bad_merge_on_the_page_is_explained_next_to_the_field(
    community: Community, client: Client
) -> None:
    skill = _skill(community, "Planning")
    need = Tag.objects.get(community=community, name="Hiring")
    client.force_login(organiser_of(community).user)
    response = client.post(
        f"{PORTAL}/tags/manage/",
        {"action": "merge", "merge-source": skill.pk, "merge-target": need.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    form = response.context["merge_form"]
    assert form.errors == {"target": ["Both tags must be of the same kind (skill, need or hobby)."]}
    html = response.content.decode()
    assert f'<option value="{skill.pk}" selected>' in html  # what was chosen is kept
    assert Tag.objects.filter(pk=skill.pk).exists()


def test_the_page_renames_a_tag_and_keeps_what_was_typed_on_a_clash(
    community: Community, client: Client
) -> None:
    tag = _skill(community, "Planning")
    client.force_login(organiser_of(community).user)
    edit = client.get(f"{PORTAL}/tags/manage/", {"edit": tag.pk}, HTTP_ACCEPT_LANGUAGE="en")
    assert 'value="策划"' in edit.content.decode()
    clash = client.post(
        f"{PORTAL}/tags/manage/",
        {
            "action": "rename",
            "tag": tag.pk,
            "name": "Planning",
            "name_en": "Plan",
            "name_zh": "文案",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert clash.status_code == 200
    assert clash.context["rename_form"].errors == {
        "name_zh": ["“文案” already names the tag “Copywriting”."]
    }
    assert 'value="Plan"' in clash.content.decode()
    tag.refresh_from_db()
    assert tag.name_en == "Planning"
    done = client.post(
        f"{PORTAL}/tags/manage/",
        {
            "action": "rename",
            "tag": tag.pk,
            "name": "Planning",
            "name_en": "Plan",
            "name_zh": "规划",
        },
    )
    assert done.status_code == 302
    tag.refresh_from_db()
    assert (tag.name_en, tag.name_zh) == ("Plan", "规划")


@pytest.mark.parametrize(
    "data",
    [
        {"action": "rename", "tag": "abc", "name": "x"},
        {"action": "rename", "tag": "999999999999999999999", "name": "x"},
        {"action": "merge", "merge-source": "x", "merge-target": ""},
        {"action": "dance"},
        {},
    ],
)
def test_nonsense_on_the_page_is_no_error(
    community: Community, client: Client, data: dict[str, str]
) -> None:
    client.force_login(organiser_of(community).user)
    count = Tag.objects.count()
    response = client.post(f"{PORTAL}/tags/manage/", data)
    assert response.status_code == 200
    assert Tag.objects.count() == count


# --- the picker ------------------------------------------------------------------------------


def test_the_profile_form_is_a_picker_over_checkboxes_that_searches_every_name(
    community: Community, client: Client
) -> None:
    member = add_member(community, profile={"skills": ["交互设计"]})
    client.force_login(member.user)
    html = client.get(f"{PORTAL}/me/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert html.count("data-tag-picker") == 3
    assert 'src="/static/js/picker.js" defer' in html
    # the value stays the canonical name, the label is the reader's language's, and the
    # picker can find it by either name; the member's tag is ticked
    design = html.split('value="Interaction design"')[1].split("</label>")[0]
    assert 'checked data-names="Interaction design 交互设计">' in design
    assert design.rstrip().endswith("交互设计")
    copywriting = html.split('value="Copywriting"')[1].split("</label>")[0]
    assert "checked" not in copywriting


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_merges_its_duplicates_and_names_its_tags_in_both_languages(
    community: Community,
) -> None:
    # given a community loaded by an older demo: 热点 beside 热点话题, Copywriting beside 文案
    organiser = organiser_of(community)
    with translation.override("zh-hans"):
        Tag.objects.filter(community=community).delete()
        for kind, name in [("need", "热点"), ("need", "热点话题"), ("skill", "文案")]:
            Tag.objects.create(community=community, kind=kind, name=name)
        Tag.objects.create(community=community, kind="skill", name="Copywriting")
        member = add_member(
            community, profile={"needs": ["热点"], "skills": ["Copywriting", "文案"]}
        )
        # when
        demo._ensure_tags(organiser)
        demo._ensure_tags(organiser)  # idempotent
    # then
    assert _profile_tags(member) == ["文案", "热点话题"]
    hot = Tag.objects.get(community=community, kind="need", name="热点话题")
    assert hot.name_en == "Hot topics"
    assert not Tag.objects.filter(community=community, name__in=["热点", "Copywriting"]).exists()
    names = set(Tag.objects.filter(community=community).values_list("name", flat=True))
    assert {"热点", "跨行业信息"}.isdisjoint(names)
    assert Tag.objects.filter(community=community, name_en="").count() == 2  # SQL, Python
    assert CommunityAuditLog.objects.filter(event=Event.TAG_MERGED).count() == 2
