"""Markdown for answers, briefs and comments: a safe subset, rendered once and stored.

markdown-it-py (CommonMark plus tables and strikethrough) renders with raw HTML turned off, so
``<script>`` in the source comes out as text; nh3 then keeps only the tags and attributes
below and only http(s)/mailto links, which removes event handlers and ``javascript:`` URLs
whatever the renderer let through.

Images are allowed only from this site's attachments (``/attachments/<uuid>/``), which are
served after the same access check as what they belong to: an image from anywhere else would
let an author track who reads the answer, so it is rendered as its alt text instead.

Headings get ids (``h-`` and a slug of their text, unique within the text, Chinese kept), so
that a long answer can have a table of contents (``toc``) and links to its sections.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3
from django.utils.text import slugify
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "img": {"src", "alt", "title"},
    **{h: {"id"} for h in HEADINGS},
}
# Images load lazily and never block the page; site.css sizes them for phones.
IMAGE_ATTRIBUTES = {"img": {"loading": "lazy"}}  # one: nh3 writes several in any order
# A table column's alignment, as a class (site.css): the Content-Security-Policy refuses the
# inline style markdown-it writes for it.
ALIGNMENTS = ("left", "center", "right")
ALLOWED_CLASSES = {cell: {f"align-{a}" for a in ALIGNMENTS} for cell in ("th", "td")}
URL_SCHEMES = {"http", "https", "mailto"}
# This site's attachment URL (questions.urls "attachment"), the only source an image may have.
IMAGE_SRC = re.compile(
    r"\A/attachments/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/\Z"
)
HEADING_ID_PREFIX = "h-"
# Headings that make the table of contents, and how many an answer needs to get one.
TOC_LEVELS = ("h1", "h2", "h3")
TOC_MIN_HEADINGS = 3

_renderer = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)
_TAG = re.compile(r"<[^>]+>")


def image_ids(source: str) -> list[str]:
    """The attachment ids of the images Markdown ``source`` shows, in order, without repeats."""
    found: dict[str, None] = {}
    for token in _renderer.parse(source or ""):
        for child in token.children or ():
            src = str(child.attrs.get("src", "")) if child.type == "image" else ""
            if IMAGE_SRC.match(src):
                found[src.split("/")[2]] = None
    return list(found)


def _text_of(inline: Token) -> str:
    return "".join(
        child.content for child in inline.children or () if child.type in ("text", "code_inline")
    )


def _heading_id(text: str, taken: set[str]) -> str:
    base = HEADING_ID_PREFIX + (slugify(text, allow_unicode=True)[:80].strip("-") or "section")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _only_site_images(inline: Token) -> None:
    """Turn an image from anywhere but this site's attachments into its alt text."""
    for child in inline.children or ():
        if child.type == "image" and not IMAGE_SRC.match(str(child.attrs.get("src", ""))):
            child.type, child.tag, child.attrs, child.children = "text", "", {}, None


def _unsafe_html(source: str) -> str:
    """markdown-it's HTML, with table alignment as classes instead of inline styles, ids on
    headings, and only this site's images."""
    tokens = _renderer.parse(source or "")
    taken: set[str] = set()
    for i, token in enumerate(tokens):
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            align = str(token.attrs.pop("style")).removeprefix("text-align:")
            if align in ALIGNMENTS:
                token.attrSet("class", f"align-{align}")
        elif token.type == "heading_open" and i + 1 < len(tokens):
            token.attrSet("id", _heading_id(_text_of(tokens[i + 1]), taken))
        elif token.type == "inline":
            _only_site_images(token)
    return _renderer.renderer.render(tokens, _renderer.options, {})


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    # Second line of defence behind _only_site_images: no other image source, ever.
    if tag == "img" and attribute == "src" and not IMAGE_SRC.match(value):
        return None
    return value


def render(source: str) -> str:
    """Sanitised HTML for Markdown ``source``."""
    return nh3.clean(
        _unsafe_html(source),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute,
        set_tag_attribute_values=IMAGE_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


@dataclass(frozen=True)
class TocEntry:
    level: int  # 1 for the topmost level the text uses, then 2, 3
    anchor: str
    text: str


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, list[str]]] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        anchor = dict(attrs).get("id") or ""
        if tag in TOC_LEVELS and anchor.startswith(HEADING_ID_PREFIX):
            self._open = []
            self.found.append((int(tag[1]), anchor, self._open))

    def handle_endtag(self, tag: str) -> None:
        if tag in TOC_LEVELS:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)


def toc(body_html: str) -> list[TocEntry]:
    """The table of contents of rendered HTML (``render``'s output): its h1–h3 headings, or
    nothing when it has fewer than ``TOC_MIN_HEADINGS`` of them."""
    parser = _Headings()
    parser.feed(body_html or "")
    parser.close()
    if len(parser.found) < TOC_MIN_HEADINGS:
        return []
    top = min(level for level, _anchor, _text in parser.found)
    return [
        TocEntry(level=level - top + 1, anchor=anchor, text=" ".join("".join(text).split()))
        for level, anchor, text in parser.found
    ]


def plain_text(source: str) -> str:
    """The words of Markdown ``source``, for search documents and e-mail excerpts."""
    return html.unescape(_TAG.sub(" ", render(source))).strip()


def excerpt(source: str, length: int = 200) -> str:
    text = " ".join(plain_text(source).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
