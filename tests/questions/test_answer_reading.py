"""Reading long answers: headings get stable, unique ids (Chinese ones too), an answer with
three or more headings shows a table of contents above it, and images come only from this
site's attachments — all without opening a door to injected HTML."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from members.models import Community, Membership
from questions import markdown
from tests.factories import add_member
from tests.questions.helpers import answer, published

IMAGE = f"/attachments/{uuid.UUID(int=7)}/"


# --- Heading ids ------------------------------------------------------------------------------


def test_headings_get_ids_from_their_text() -> None:
    html = markdown.render("# Why *this* works\n\n## Step `one`\n\n### 第三步：衡量")
    assert html == (
        '<h1 id="h-why-this-works">Why <em>this</em> works</h1>\n'
        '<h2 id="h-step-one">Step <code>one</code></h2>\n'
        '<h3 id="h-第三步衡量">第三步：衡量</h3>\n'
    )


def test_repeated_headings_get_unique_ids_and_an_empty_one_a_usable_id() -> None:
    html = markdown.render("## Summary\n\n## Summary\n\n## summary!\n\n## ？？\n\n## ")
    assert [e.anchor for e in markdown.toc(html)] == [
        "h-summary",
        "h-summary-2",
        "h-summary-3",
        "h-section",
        "h-section-2",
    ]


def test_ids_are_stable_across_renders_and_edits_elsewhere() -> None:
    first = markdown.toc(markdown.render("## A\n\ntext\n\n## B\n\n## C"))
    second = markdown.toc(markdown.render("intro\n\n## A\n\nother text\n\n## B\n\n## C"))
    assert [e.anchor for e in first] == [e.anchor for e in second] == ["h-a", "h-b", "h-c"]


@pytest.mark.parametrize(
    "source",
    [
        '## x" onclick="alert(1)',
        "## <script>alert(1)</script>",
        '## <h2 id="x" onmouseover="alert(1)">y</h2>',
        "## [a](javascript:alert(1))",
        '## ![x](/attachments/00000000-0000-0000-0000-000000000007/" onerror="alert(1))',
    ],
)
def test_a_heading_cannot_inject_attributes_or_tags(source: str) -> None:
    html = markdown.render(source)
    assert re.match(r'<h2 id="h-[\w-]*">', html), html
    assert not re.search(r"<[^>]*\son\w+\s*=", html)  # no event handler in any tag
    assert not re.search(r"<(script|h[1-6] [^>]*id=\"x)", html)
    assert "javascript:" not in "".join(re.findall(r"<[^>]*>", html))


def test_a_heading_id_keeps_to_letters_digits_and_hyphens() -> None:
    html = markdown.render("## a\"b<c>d&e'f g")
    assert html.startswith('<h2 id="h-abcdef-g">')


# --- Table of contents ------------------------------------------------------------------------

LONG = """# 方法

intro

## Find the people

### Ask one question

## Measure

#### Not in the contents
"""


def test_the_contents_list_h1_to_h3_with_their_levels() -> None:
    entries = markdown.toc(markdown.render(LONG))
    assert [(e.level, e.anchor, e.text) for e in entries] == [
        (1, "h-方法", "方法"),
        (2, "h-find-the-people", "Find the people"),
        (3, "h-ask-one-question", "Ask one question"),
        (2, "h-measure", "Measure"),
    ]


def test_the_contents_start_at_the_topmost_level_used() -> None:
    entries = markdown.toc(markdown.render("## A\n\n### A.1\n\n## B"))
    assert [e.level for e in entries] == [1, 2, 1]


def test_an_answer_with_fewer_than_three_headings_has_no_contents() -> None:
    assert markdown.toc(markdown.render("## A\n\ntext\n\n## B\n\n#### c\n\n#### d")) == []
    assert markdown.toc("") == []


def test_headings_from_before_ids_existed_make_no_contents() -> None:
    assert markdown.toc("<h2>A</h2><h2>B</h2><h2>C</h2>") == []


@pytest.mark.django_db
def test_the_question_page_shows_the_contents_above_a_long_answer_only(
    client: Client, community: Community
) -> None:
    # given a long answer (four headings) and a short one (two)
    asker = add_member(community, profile={"handle": "asker"})
    question = published(asker)
    long_one = answer(add_member(community), question, LONG + '\n## <b>"x"</b>')
    short_one = answer(add_member(community), question, "## A\n\n## B")
    reader: Membership = add_member(community)
    client.force_login(reader.user)
    # when
    page = client.get(question.get_absolute_url()).content.decode()
    # then the long answer's card has the contents, linking to its headings, escaped
    long_card = page.split(f'id="answer-{long_one.pk}"', 1)[1].split("</article>", 1)[0]
    short_card = page.split(f'id="answer-{short_one.pk}"', 1)[1].split("</article>", 1)[0]
    assert long_card.count('class="answer-toc"') == 1
    for anchor in ("h-方法", "h-find-the-people", "h-ask-one-question", "h-measure", "h-bxb"):
        assert f'href="#{anchor}"' in long_card
        assert f'id="{anchor}"' in long_card
    assert ">&lt;b&gt;&quot;x&quot;&lt;/b&gt;</a>" in long_card  # the contents' entry, escaped
    assert long_card.index('class="answer-toc"') < long_card.index('id="h-方法"')
    assert "answer-toc" not in short_card


# --- Images -----------------------------------------------------------------------------------


def test_an_image_from_this_sites_attachments_is_shown_lazily() -> None:
    html = markdown.render(f'![A chart]({IMAGE} "Weekly")')
    assert html == (f'<p><img src="{IMAGE}" alt="A chart" title="Weekly" loading="lazy"></p>\n')


@pytest.mark.parametrize(
    "src",
    [
        "https://tracker.example/pixel.gif",
        "http://tracker.example/attachments/00000000-0000-0000-0000-000000000007/",
        "//tracker.example/attachments/00000000-0000-0000-0000-000000000007/",
        "data:image/png;base64,iVBORw0KGgo=",
        "/attachments/00000000-0000-0000-0000-000000000007/../../logout/",
        "/attachments/00000000-0000-0000-0000-000000000007/?track=1",
        "/static/img/logo.png",
        "javascript:alert(1)",
    ],
)
def test_an_image_from_anywhere_else_becomes_its_alt_text(src: str) -> None:
    html = markdown.render(f"before ![the alt]({src}) after")
    assert "<img" not in html
    assert "the alt" in html


def test_raw_img_tags_stay_text() -> None:
    html = markdown.render(f'<img src="{IMAGE}" onerror="alert(1)">')
    assert html == f'<p>&lt;img src="{IMAGE}" onerror="alert(1)"&gt;</p>\n'


def test_the_image_ids_an_answer_shows() -> None:
    other = f"/attachments/{uuid.UUID(int=8)}/"
    source = (
        f"![a]({IMAGE})\n\n![b](https://x.example/y.png)\n\n"
        f"[![c]({other})](https://e.com) ![a]({IMAGE})"
    )
    assert markdown.image_ids(source) == [str(uuid.UUID(int=7)), str(uuid.UUID(int=8))]


def test_plain_text_and_excerpts_leave_images_out() -> None:
    assert markdown.plain_text(f"Look: ![chart]({IMAGE}) done") == "Look:   done"
