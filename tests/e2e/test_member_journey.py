"""A plain member's journey in the browser: sign in, edit my profile, find people in the
directory (Chinese and English search, a filter), on a desktop and on a phone; and the
language switch in the header.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from members.models import Community, Membership, Profile, Tag
from tests.factories import PASSWORD, UserFactory, add_member, make_community

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
CARD_HANDLES = "article.profile-card h3.handle a"


@dataclass(frozen=True)
class Studio:
    community: Community
    me: Membership


@pytest.fixture
def studio() -> Studio:
    """A seed-phase community with members in Chinese and in English."""
    community = make_community(slug="atelier", name="Atelier 设计社")
    me = add_member(
        community,
        user=UserFactory(username="xiaoming", email="xiaoming@example.com"),
        profile={
            "handle": "xiaoming",
            "real_name": "李小明",
            "city": "Beijing",
            "industry": "互联网",
            "role_title": "Product manager",
        },
    )
    add_member(
        community,
        profile={
            "handle": "lin",
            "real_name": "林雪",
            "city": "上海",
            "industry": "互联网",
            "role_title": "产品负责人",
            "skills": ["交互设计", "Planning"],
        },
    )
    add_member(
        community,
        profile={
            "handle": "alice",
            "real_name": "Alice Walker",
            "city": "London",
            "industry": "Publishing",
            "role_title": "Editor",
            "skills": ["Copywriting"],
            "hobbies": ["Hiking"],
        },
    )
    add_member(
        community,
        profile={
            "handle": "bob",
            "city": "Shenzhen",
            "industry": "Hardware",
            "role_title": "Engineer",
            "skills": ["Planning", "Structured thinking"],
        },
    )
    add_member(
        community,
        profile={
            "handle": "zhang",
            "real_name": "张伟",
            "city": "成都",
            "industry": "教育",
            "skills": ["Copywriting"],
            "hobbies": ["徒步"],
        },
    )
    return Studio(community=community, me=me)


def _sign_in(page: Page, base_url: str, *, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)


def _search(page: Page, **fields: str) -> None:
    """Fill the directory's filter form (text inputs or selects by name) and submit it."""
    form = page.get_by_role("search")
    for name, value in fields.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    with page.expect_navigation():
        form.get_by_role("button", name="Find").click()


def test_member_edits_profile_and_finds_people_in_directory(
    page: Page, live_server: object, studio: Studio, artifacts: Path
) -> None:
    base = str(live_server)
    slug = studio.community.slug

    # given: the login page
    _sign_in(page, base, email="xiaoming@example.com")
    page.screenshot(path=artifacts / "01-login.png", full_page=True)

    # when: I sign in
    page.get_by_role("button", name="Sign In").click()

    # then: my communities are listed, with a way to my profile
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    page.get_by_role("link", name="My profile").click()
    expect(page).to_have_url(f"{base}/c/{slug}/me/")

    # when: I change my handle and city and tick a skill, then save
    form = page.locator("#profile-form")
    expect(form.get_by_label("Handle")).to_have_value("xiaoming")
    form.get_by_label("Handle").fill("mingming")
    form.get_by_label("City").fill("杭州")
    skill = form.locator("#id_skills").get_by_label("交互设计", exact=True)
    expect(skill).not_to_be_checked()
    skill.check()
    form.get_by_role("button", name="Save profile").click()

    # then: a success message, the form keeps the new values, the preview shows them
    expect(page).to_have_url(f"{base}/c/{slug}/me/")
    expect(page.locator("ul.messages li.success")).to_have_text("Your profile is saved.")
    expect(form.get_by_label("Handle")).to_have_value("mingming")
    expect(form.get_by_label("City")).to_have_value("杭州")
    expect(form.locator("#id_skills").get_by_label("交互设计", exact=True)).to_be_checked()
    previews = page.locator("section.preview")
    expect(previews).to_have_count(3)
    for i in range(3):
        preview = previews.nth(i)
        expect(preview.locator("h3.handle")).to_have_text("mingming")
        expect(preview.locator("dd", has_text="杭州")).to_have_count(1)
        expect(preview.locator("span.tag")).to_have_text(["交互设计"])
    # the growth-phase audience does not see my real name; the others do
    expect(previews.nth(0).locator("dd.real-name")).to_have_text("李小明")
    expect(previews.nth(1).locator("dd.withheld")).to_have_count(1)
    expect(previews.nth(1)).not_to_contain_text("李小明")
    expect(previews.nth(2).locator("dd.real-name")).to_have_text("李小明")
    page.screenshot(path=artifacts / "02-profile-saved.png", full_page=True)

    # and the database holds the change, with the untouched fields as they were
    profile = Profile.objects.get(membership=studio.me)
    assert (profile.handle, profile.city) == ("mingming", "杭州")
    assert (profile.real_name, profile.industry, profile.role_title) == (
        "李小明",
        "互联网",
        "Product manager",
    )
    assert [(t.kind, t.name) for t in profile.tags.all()] == [(Tag.Kind.SKILL, "交互设计")]

    # when: I open the directory and search in Chinese (by address: on a desktop the header
    # menu cannot be reached, see test_header_menu_is_usable_on_a_desktop)
    page.goto(f"{base}/c/{slug}/members/")
    expect(page.get_by_text("6 members found")).to_be_visible()
    _search(page, q="交互设计")

    # then: the two members with that skill, me among them (found by my new values)
    expect(page.locator(CARD_HANDLES)).to_have_text(["lin", "mingming"])
    expect(page.get_by_text("2 members found")).to_be_visible()
    page.screenshot(path=artifacts / "03-directory-search.png", full_page=True)

    # when: I search by my new city in Chinese
    _search(page, q="杭州")
    # then: only me
    expect(page.locator(CARD_HANDLES)).to_have_text(["mingming"])

    # when: I search in English (a word prefix, any case)
    _search(page, q="COPYWRIT")
    # then: the two copywriters, nobody else
    expect(page.locator(CARD_HANDLES)).to_have_text(["alice", "zhang"])
    expect(page.get_by_text("2 members found")).to_be_visible()
    page.screenshot(path=artifacts / "04-directory-search-en.png", full_page=True)

    # when: I clear the text and filter by a skill from the vocabulary
    _search(page, q="", skill="Planning")
    # then: the planners
    expect(page).to_have_url(
        f"{base}/c/{slug}/members/?q=&skill=Planning&need=&hobby=&industry=&city=&role="
    )
    expect(page.locator(CARD_HANDLES)).to_have_text(["bob", "lin"])
    expect(page.get_by_role("search").locator("[name=skill]")).to_have_value("Planning")

    # when: I add a city filter
    _search(page, city="Shenzhen")
    # then: only the planner in Shenzhen
    expect(page.locator(CARD_HANDLES)).to_have_text(["bob"])
    expect(page.get_by_text("1 member found")).to_be_visible()
    page.screenshot(path=artifacts / "05-directory-filter.png", full_page=True)

    # when: the directory is opened on a phone
    page.set_viewport_size(PHONE)
    _search(page, skill="", city="", q="交互设计")
    # then: the cards are there, nothing overflows sideways, the menu folds into a button
    expect(page.locator(CARD_HANDLES)).to_have_text(["lin", "mingming"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator("header nav.menu-account")).to_be_hidden()
    expect(page.locator("header nav.menu-community")).to_be_hidden()
    page.screenshot(path=artifacts / "06-directory-phone.png", full_page=True)
    page.locator("header label.menu-button").click()
    expect(page.locator("header nav").get_by_role("link", name="My profile")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts / "07-directory-phone-menu.png")


def test_directory_says_when_nobody_matches(
    page: Page, live_server: object, studio: Studio, artifacts: Path
) -> None:
    # given: a signed-in member in the directory
    _sign_in(page, str(live_server), email="xiaoming@example.com")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    page.goto(f"{live_server}/c/{studio.community.slug}/members/")
    # when: a search finds nobody
    _search(page, q="nobody-here")
    page.screenshot(path=artifacts / "09-directory-nobody.png", full_page=True)
    # then: no card, and the page says so
    expect(page.locator(CARD_HANDLES)).to_have_count(0)
    expect(page.get_by_text("0 members found")).to_be_visible(timeout=2000)
    expect(page.get_by_text("Nobody matches. Try fewer filters.")).to_be_visible(timeout=2000)


def _header_menu(page: Page) -> None:
    """Open the ☰ menu where it is folded (phones); on wider screens it should be shown."""
    button = page.locator("header label.menu-button")
    if button.is_visible():
        button.click()


def test_header_menu_is_usable_on_a_desktop(
    page: Page, live_server: object, studio: Studio
) -> None:
    # given: a signed-in member on their profile page, on a 1280x720 screen
    _sign_in(page, str(live_server), email="xiaoming@example.com")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()
    page.goto(f"{live_server}/c/{studio.community.slug}/me/")
    # when: I follow "Directory" in the header
    _header_menu(page)
    page.locator("header nav").get_by_role("link", name="Directory").click(timeout=3000)
    # then
    expect(page).to_have_url(f"{live_server}/c/{studio.community.slug}/members/")


@pytest.mark.parametrize(
    "viewport",
    [
        pytest.param(PHONE, id="phone"),
        pytest.param({"width": 1280, "height": 720}, id="desktop"),
    ],
)
def test_language_switch_in_header_turns_the_page_to_simplified_chinese(
    page: Page, live_server: object, artifacts: Path, viewport: dict[str, int]
) -> None:
    # given: the home page, in English
    page.set_viewport_size(viewport)
    page.goto(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _header_menu(page)
    switch = page.locator("header select[name=language]")
    expect(switch).to_have_value("en")

    # when: I pick Simplified Chinese in the header
    switch.select_option("zh-hans", timeout=3000)

    # then: the page comes back in zh-hans, and the choice is remembered in the cookie
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("header select[name=language]")).to_have_value("zh-hans")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("django_language") == "zh-hans"
    page.screenshot(path=artifacts / f"08-language-zh-hans-{viewport['width']}.png", full_page=True)

    # and it stays so on the next page
    page.goto(f"{live_server}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
