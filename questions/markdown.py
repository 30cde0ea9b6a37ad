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
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_renderer = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
    .disable("image")
)
_TAG = re.compile(r"<[^>]+>")


def render(source: str) -> str:
    """Sanitised HTML for Markdown ``source``."""
    return nh3.clean(
        _renderer.render(source or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
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
