"""One vocabulary in two languages, in the browser (issue 12): the tag picker and a bilingual
tag search, at a phone's (390x844) and a desktop's (1366x768) viewport, in English and in
Simplified Chinese.

A member with a long skills vocabulary opens their profile: the checkboxes have become a
picker; typing a tag's name in the *other* language finds it, Enter picks it and it shows as a
chip; a chip removes its tag; the profile saves the tags chosen. Then a search in the other
language finds the members whichever language they tagged in, their tags shown in the
reader's language. Screenshots go to the ``artifacts`` folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from members.models import Community, CommunityAuditLog, Membership, Profile, Tag
from tests.e2e.conftest import DESKTOP, OVERFLOW, PHONE, SignedIn
from tests.factories import UserFactory, add_member, make_community, organiser_of
from tests.members.test_tags import name_in_both_languages

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Enough skills that a checkbox list would be a wall: the picker is what makes it usable.
EXTRA_SKILLS = [(f"技能{i:02d}", f"Skill {i:02d}") for i in range(1, 31)]


@dataclass(frozen=True)
class World:
    community: Community
    me: Membership


@pytest.fixture
def world() -> World:
    community = make_community(slug="bilingual", name="双语社群 · Bilingual Circle")
    name_in_both_languages(community)  # as the organiser would, on the tags page
    Tag.objects.create(
        community=community,
        kind="skill",
        name="数据分析",
        name_en="Data analysis",
        name_zh="数据分析",
    )
    Tag.objects.bulk_create(
        Tag(community=community, kind="skill", name=zh, name_en=en, name_zh=zh)
        for zh, en in EXTRA_SKILLS
    )
    add_member(community, profile={"handle": "zh-designer", "skills": ["交互设计"]})
    add_member(community, profile={"handle": "en-designer", "skills": ["Interaction design"]})
    add_member(community, profile={"handle": "writer", "skills": ["Copywriting"]})
    user = UserFactory(username="me", email="me@example.com")
    me = add_member(community, user=user, profile={"handle": "me", "skills": ["Planning"]})
    return World(community=community, me=me)


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(OVERFLOW)
    assert overflow <= 0, overflow


# In each language: what to type (the other language's name), and how pages name the tags.
CASES = {
    "en": {
        "find": "数据",
        "picked": "Data analysis",
        "planning": "Planning",
        "search": "交互设计",
        "design": "Interaction design",
    },
    "zh-hans": {
        "find": "data ana",
        "picked": "数据分析",
        "planning": "策划",
        "search": "interaction design",
        "design": "交互设计",
    },
}
# Each test at a phone's and a desktop's size, in each language.
EACH_SIZE_AND_LANGUAGE = pytest.mark.parametrize(
    ("viewport", "language"),
    [
        pytest.param(viewport, language, id=f"{language}-{size}")
        for language in CASES
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP))
    ],
)


def _open(
    signed_in: SignedIn, membership: Membership, viewport: dict[str, int], language: str
) -> tuple[Page, str]:
    """A browser signed in as ``membership``, and the screenshots' suffix for its size and
    language."""
    page = signed_in(membership.user, viewport=viewport, language=language)
    return page, f"{language}-{viewport['width']}"


@EACH_SIZE_AND_LANGUAGE
def test_the_tag_picker_and_a_bilingual_tag_search(
    signed_in: SignedIn,
    live_server: Any,
    world: World,
    artifacts: Path,
    viewport: dict[str, int],
    language: str,
) -> None:
    base = str(live_server)
    slug = world.community.slug
    case = CASES[language]
    page, shot = _open(signed_in, world.me, viewport, language)

    # --- the picker on my profile --------------------------------------------------------
    page.goto(f"{base}/c/{slug}/me/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    skills = page.locator("#profile-form .tag-picker").first
    # skills and needs become pickers; hobbies (none in the vocabulary yet) stay empty
    expect(page.locator(".tag-picker.is-enhanced")).to_have_count(2)
    expect(page.locator(".tag-picker")).to_have_count(3)
    chips = skills.locator(".tag-chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text(case["planning"])
    options = skills.locator("input[type=checkbox]")
    expect(options).to_have_count(5 + 1 + len(EXTRA_SKILLS))
    page.screenshot(path=artifacts / f"tags-picker-{shot}.png", full_page=True)

    # typing the other language's name leaves only that tag in the list
    skills.locator("input.tag-filter").fill(case["find"])
    expect(skills.locator("input[value='数据分析']")).to_be_visible()
    expect(skills.locator("input[value='技能01']")).to_be_hidden()
    expect(skills.locator("input[type=checkbox]:visible")).to_have_count(1)
    page.screenshot(path=artifacts / f"tags-picker-filtered-{shot}.png", full_page=True)
    # Enter picks it (and does not submit the form); the filter is cleared
    skills.locator("input.tag-filter").press("Enter")
    expect(skills.locator("input[value='数据分析']")).to_be_checked()
    expect(skills.locator("input.tag-filter")).to_have_value("")
    expect(chips).to_have_count(2)
    expect(skills.locator(".tag-chips")).to_contain_text(case["picked"])
    # a chip removes its tag
    skills.locator(".tag-chip", has_text=case["planning"]).click()
    expect(skills.locator("input[value='Planning']")).not_to_be_checked()
    expect(chips).to_have_count(1)
    # nothing matches: said so
    skills.locator("input.tag-filter").fill("zzz-nothing")
    expect(skills.locator(".tag-empty")).to_be_visible()
    expect(skills.locator("input[type=checkbox]:visible")).to_have_count(0)
    skills.locator("input.tag-filter").fill("")
    expect(skills.locator(".tag-empty")).to_be_hidden()
    _no_sideways_scroll(page)
    page.screenshot(path=artifacts / f"tags-picker-chosen-{shot}.png", full_page=True)

    page.locator("#profile-form button[type=submit]").click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    profile = Profile.objects.get(membership=world.me)
    assert sorted(profile.tags.values_list("name", flat=True)) == ["数据分析"]
    expect(page.locator("#profile-form .tag-chip")).to_have_count(1)

    # --- a search in the other language ----------------------------------------------------
    page.goto(f"{base}/c/{slug}/members/")
    page.locator("#id_q").fill(case["search"])
    page.locator("form[role=search] button[type=submit]").click()
    cards = page.locator("article.profile-card")
    expect(cards.locator("h3.handle a")).to_have_text(["en-designer", "zh-designer"])
    expect(cards.locator("span.tag")).to_have_text([case["design"], case["design"]])
    _no_sideways_scroll(page)
    page.screenshot(path=artifacts / f"tags-search-{shot}.png", full_page=True)


@EACH_SIZE_AND_LANGUAGE
def test_an_organiser_names_a_tag_and_merges_a_duplicate(
    signed_in: SignedIn,
    live_server: Any,
    world: World,
    artifacts: Path,
    viewport: dict[str, int],
    language: str,
) -> None:
    base = str(live_server)
    community = world.community
    slug = community.slug
    duplicate = Tag.objects.create(community=community, kind="need", name="热点")
    hot = Tag.objects.get(community=community, kind="need", name="Hot topics")
    planning = Tag.objects.get(community=community, kind="skill", name="Planning")
    member = add_member(community, profile={"handle": "trend", "needs": ["热点"]})
    page, shot = _open(signed_in, organiser_of(community), viewport, language)
    page.on("dialog", lambda dialog: dialog.accept())  # "Merge these tags?"

    # from the settings to the tags page
    page.goto(f"{base}/c/{slug}/settings/")
    page.locator("#tag-manage-link").click()
    expect(page).to_have_url(f"{base}/c/{slug}/tags/manage/")
    expect(page.locator(f"tr[data-tag='{duplicate.pk}']")).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=artifacts / f"tags-manage-{shot}.png", full_page=True)

    # name a tag in Chinese
    page.locator(f"tr[data-tag='{planning.pk}'] a").click()
    page.locator("#id_name_zh").fill("规划")
    page.locator("#tag-rename-form button[type=submit]").click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    expect(page.locator(f"tr[data-tag='{planning.pk}']")).to_contain_text("规划")
    planning.refresh_from_db()
    assert (planning.name, planning.name_en, planning.name_zh) == ("Planning", "Planning", "规划")

    # merge 热点 into Hot topics / 热点话题
    page.locator("#id_merge-source").select_option(str(duplicate.pk))
    page.locator("#id_merge-target").select_option(str(hot.pk))
    page.locator("#tag-merge-form button[type=submit]").click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    expect(page.locator(f"tr[data-tag='{duplicate.pk}']")).to_have_count(0)
    _no_sideways_scroll(page)
    page.screenshot(path=artifacts / f"tags-merged-{shot}.png", full_page=True)
    assert not Tag.objects.filter(pk=duplicate.pk).exists()
    needs = Profile.objects.get(membership=member).tags.values_list("name", flat=True)
    assert list(needs) == ["Hot topics"]
    assert CommunityAuditLog.objects.filter(community=community, event="tag_merged").count() == 1
