"""Markdown for answers, briefs and comments: a safe subset, rendered once and stored.

markdown-it-py (CommonMark plus tables and strikethrough) renders with raw HTML turned off, so
``<script>`` in the source comes out as text; nh3 then keeps only the tags and attributes
below and only http(s)/mailto links, which removes event handlers and ``javascript:`` URLs
whatever the renderer let through. Images are not part of the subset: an image URL would let
an author track who reads the answer.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# A table column's alignment, as a class (site.css): the Content-Security-Policy refuses the
# inline style markdown-it writes for it.
ALIGNMENTS = ("left", "center", "right")
ALLOWED_CLASSES = {cell: {f"align-{a}" for a in ALIGNMENTS} for cell in ("th", "td")}
URL_SCHEMES = {"http", "https", "mailto"}

_renderer = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
    .disable("image")
)
_TAG = re.compile(r"<[^>]+>")


def _unsafe_html(source: str) -> str:
    """markdown-it's HTML, with table alignment as classes instead of inline styles."""
    tokens = _renderer.parse(source or "")
    for token in tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            align = str(token.attrs.pop("style")).removeprefix("text-align:")
            if align in ALIGNMENTS:
                token.attrSet("class", f"align-{align}")
    return _renderer.renderer.render(tokens, _renderer.options, {})


def render(source: str) -> str:
    """Sanitised HTML for Markdown ``source``."""
    return nh3.clean(
        _unsafe_html(source),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def plain_text(source: str) -> str:
    """The words of Markdown ``source``, for search documents and e-mail excerpts."""
    return html.unescape(_TAG.sub(" ", render(source))).strip()


def excerpt(source: str, length: int = 200) -> str:
    text = " ".join(plain_text(source).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
