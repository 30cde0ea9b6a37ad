"""Writing and reading a long answer in the browser: the Markdown toolbar, the draft kept as
one types and restored after a reload, an image uploaded from the toolbar and shown in the
preview and the saved answer, and the table of contents above it. Once on a phone in English,
once on a desktop in Simplified Chinese.

Screenshots go to the ``artifacts`` folder.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from members.models import Community
from questions.models import Answer, Attachment, Question
from tests.e2e.conftest import DESKTOP, PHONE, SignedIn
from tests.factories import add_member, make_community
from tests.questions.helpers import published
from tests.questions.images import png_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _select(area: Locator, text: str) -> None:
    """Select the first ``text`` in the textarea, as a person dragging over it would."""
    area.evaluate(
        """(el, text) => { const at = el.value.indexOf(text); el.focus();
                           el.setSelectionRange(at, at + text.length); }""",
        text,
    )


def _format(area: Locator, toolbar: Locator, text: str, how: str) -> None:
    """Select the first ``text`` in the textarea and press the toolbar's ``how`` button."""
    _select(area, text)
    toolbar.locator(f"[data-md={how}]").click()


def _caret_at_end(area: Locator) -> None:
    area.evaluate("el => { el.focus(); el.setSelectionRange(el.value.length, el.value.length); }")


def _image_loaded(page: Page, selector: str, width: int) -> None:
    """Wait until the image has been fetched and decoded (a broken one has no width)."""
    image = page.locator(selector).first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        """([selector, width]) => { const img = document.querySelector(selector);
                                    return img && img.complete && img.naturalWidth === width; }""",
        arg=[selector, width],
    )


@pytest.mark.parametrize(
    ("viewport", "language", "lesson"),
    [
        pytest.param(PHONE, "en", "What we learned", id="phone-en"),
        pytest.param(DESKTOP, "zh-hans", "复盘结论", id="desktop-zh"),
    ],
)
def test_a_long_answer_is_written_with_the_toolbar_draft_and_image_and_read_with_contents(
    signed_in: SignedIn,
    live_server: Any,
    midweek: datetime.datetime,
    artifacts: Path,
    viewport: dict[str, int],
    language: str,
    lesson: str,
) -> None:
    base = str(live_server)
    community: Community = make_community(slug="longform", name="长文社群 · Longform")
    question: Question = published(
        add_member(community, profile={"handle": "asker"}), title="怎样写一份好的复盘？"
    )
    author = add_member(community, profile={"handle": "writer"})
    reader = add_member(community, profile={"handle": "reader"})
    name = f"{viewport['width']}-{language}"
    answer_url = f"{base}/c/{community.slug}/questions/{question.pk}/answer/"

    # --- 1. The toolbar formats the selection ------------------------------------------------
    page = signed_in(author.user, viewport=viewport, language=language)
    page.goto(answer_url)
    expect(page.locator("html")).to_have_attribute("lang", language)
    form = page.locator("#answer-form")
    area = form.locator("textarea[name=body]")
    toolbar = form.locator("[data-toolbar]")
    expect(toolbar).to_be_visible()  # JavaScript shows it
    preview = page.locator("#answer-preview")

    area.fill("Background")
    _format(area, toolbar, "Background", "heading")
    expect(area).to_have_value("## Background")

    _caret_at_end(area)
    page.keyboard.type("\n\nKeep it short and honest.\n\nSteps")
    _format(area, toolbar, "short", "bold")
    _format(area, toolbar, "honest", "italic")
    _format(area, toolbar, "Steps", "heading")
    _caret_at_end(area)
    page.keyboard.type("\n\nList what happened\nSay why")
    _format(area, toolbar, "List what happened\nSay why", "list")
    _caret_at_end(area)
    page.keyboard.type(f"\n\n{lesson}\n\nNo blame.")
    _format(area, toolbar, lesson, "heading")
    _format(area, toolbar, "No blame.", "quote")
    _caret_at_end(area)
    page.keyboard.type("\n\nrun retro.sh")
    _format(area, toolbar, "retro.sh", "code")
    _caret_at_end(area)
    page.keyboard.type("\n\nthe template")
    _format(area, toolbar, "template", "link")
    page.keyboard.type("https://example.com/retro")  # the link's address was selected

    typed = (
        "## Background\n\nKeep it **short** and *honest*.\n\n## Steps\n\n"
        f"- List what happened\n- Say why\n\n## {lesson}\n\n> No blame.\n\n"
        "run `retro.sh`\n\nthe [template](https://example.com/retro)"
    )
    expect(area).to_have_value(typed)
    expect(preview.locator("h2")).to_have_text(["Background", "Steps", lesson])
    expect(preview.locator("strong")).to_have_text("short")
    expect(preview.locator("em")).to_have_text("honest")
    expect(preview.locator("li")).to_have_text(["List what happened", "Say why"])
    expect(preview.locator("blockquote")).to_have_text("No blame.")
    expect(preview.locator("code")).to_have_text("retro.sh")
    expect(preview.locator("a")).to_have_attribute("href", "https://example.com/retro")

    # --- 2. The draft is saved as one types, and restored after a reload --------------------
    status = form.locator("[data-draft-status]")
    expect(status).to_have_attribute("data-state", "draft-saved")
    expect(status).to_have_text(form.get_attribute("data-draft-saved") or "-")
    page.screenshot(path=artifacts / f"answer-editor-{name}-1-toolbar.png", full_page=True)
    page.reload()
    expect(area).to_have_value(typed)
    expect(status).to_have_attribute("data-state", "draft-restored")
    expect(status).to_have_text(form.get_attribute("data-draft-restored") or "-")
    expect(preview.locator("h2")).to_have_count(3)
    page.screenshot(path=artifacts / f"answer-editor-{name}-2-draft-restored.png", full_page=True)

    # --- 3. An image is uploaded from the toolbar and shown in the preview -------------------
    _caret_at_end(area)
    with page.expect_file_chooser() as chooser:
        toolbar.locator("[data-md=image]").click()
    chooser.value.set_files(
        files=[{"name": "timeline.png", "mimeType": "image/png", "buffer": png_bytes(40, 24)}]
    )
    expect(status).to_have_attribute("data-state", "uploaded")
    image = Attachment.objects.get()
    image_url = f"/attachments/{image.pk}/"
    expect(area).to_have_value(f"{typed}\n\n![timeline]({image_url})")
    expect(preview.locator("img")).to_have_attribute("src", image_url)
    _image_loaded(page, "#answer-preview img", 40)
    page.screenshot(path=artifacts / f"answer-editor-{name}-3-image.png", full_page=True)

    # --- 4. Saved: the draft is gone, the answer has its contents and its image -------------
    form.locator("button[type=submit]").click()
    saved = Answer.objects.get(author=author)
    expect(page).to_have_url(f"{base}{question.get_absolute_url()}#answer-{saved.pk}")
    key = f"answer-draft:{author.user.pk}:{question.pk}"
    assert page.evaluate("key => window.localStorage.getItem(key)", key) is None
    card = page.locator(f"#answer-{saved.pk}")
    contents = card.locator("nav.answer-toc a")
    expect(contents).to_have_text(["Background", "Steps", lesson])
    _image_loaded(page, f"#answer-{saved.pk} .markdown img", 40)
    page.screenshot(path=artifacts / f"answer-editor-{name}-4-saved.png", full_page=True)
    contents.nth(2).click()
    anchor = {"en": "h-what-we-learned", "zh-hans": "h-复盘结论"}[language]
    expect(card.locator("h2").nth(2)).to_have_attribute("id", anchor)
    expect(card.locator("h2").nth(2)).to_be_in_viewport()
    assert page.evaluate("decodeURIComponent(location.hash)") == f"#{anchor}"

    # the form opens with the saved answer and no draft to restore
    page.goto(answer_url)
    expect(area).to_have_value(f"{typed}\n\n![timeline]({image_url})")
    expect(status).to_have_text("")  # nothing restored
    assert page.evaluate("key => window.localStorage.getItem(key)", key) is None

    # --- 5. Another member reads it, image included ------------------------------------------
    other = signed_in(reader.user, viewport=viewport, language=language)
    other.goto(f"{base}{question.get_absolute_url()}")
    expect(other.locator(f"#answer-{saved.pk} nav.answer-toc a")).to_have_count(3)
    _image_loaded(other, f"#answer-{saved.pk} .markdown img", 40)
    other.screenshot(path=artifacts / f"answer-editor-{name}-5-reader.png", full_page=True)
