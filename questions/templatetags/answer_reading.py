"""``{% answer_toc a.body_html as toc %}``: a long answer's table of contents
(questions.markdown.toc), for templates/questions/_toc.html."""

from __future__ import annotations

from django import template

from questions import markdown

register = template.Library()


@register.simple_tag
def answer_toc(body_html: str) -> list[markdown.TocEntry]:
    return markdown.toc(body_html)
