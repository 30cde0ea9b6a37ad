"""Markdown for answers, briefs and comments is a safe subset: a corpus of XSS payloads goes
through questions.markdown.render, the API's answer creation and preview, and the portal's
answer form, and nothing executable comes out; ordinary Markdown still renders."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3
import pytest
from django.test import Client
from rest_framework.test import APIClient

from members.models import Community, Membership
from questions import markdown
from questions.models import Answer, Question
from tests.factories import add_member
from tests.questions.helpers import published

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "ol": {"start"},
    "th": {"class"},
    "td": {"class"},
    "img": {"src", "alt", "title", "loading"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
# Images only from this site's attachments (served after an access check): no tracking.
SITE_IMAGE = re.compile(r"^/attachments/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/$")
ATTACHMENT = "/attachments/00000000-0000-0000-0000-000000000007/"
SAFE_SCHEMES = {"http", "https", "mailto"}
ALIGNMENT_CLASSES = {"align-left", "align-center", "align-right"}

XSS = [
    # script, plain and disguised
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(document.cookie)</script>',
    "<script/src=data:,alert(1)></script>",
    "<?xml version='1.0'?><script>alert(1)</script>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!-- <script>alert(1)</script> -->",
    # event handlers
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="&#97;lert(1)">',
    "<body onload=alert(1)>",
    "<svg onload=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    "<input autofocus onfocus=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<x onclick=alert(1)>click me</x>",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<p onmouseover="alert(1)">hover</p>',
    # javascript:, data:, vbscript: in HTML
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<a href=javascript&colon;alert(1)>x</a>",
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    # ... and in Markdown links
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](<javascript:alert(1)>)",
    "[click](java\tscript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](\x01javascript:alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](DATA:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    '[click](https://example.com "onmouseover=alert(1)")',
    '[click](https://example.com" onmouseover="alert(1))',
    # autolinks and reference links
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "<vbscript:msgbox(1)>",
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    '[x][evil]\n\n[evil]: data:text/html,<script>alert(1)</script> "t"',
    "[evil]\n\n[evil]: <javascript:alert(1)>",
    # images (only this site's attachments)
    "![img](javascript:alert(1))",
    "![img](https://tracker.example/pixel.png)",
    '<img src="https://tracker.example/pixel.png">',
    "![img](//tracker.example/attachments/00000000-0000-0000-0000-000000000007/)",
    "![img](/attachments/00000000-0000-0000-0000-000000000007/../../x.js)",
    '![img](/attachments/00000000-0000-0000-0000-000000000007/ "x" onerror="alert(1)")',
    '![x" onerror="alert(1)](/attachments/00000000-0000-0000-0000-000000000007/)',
    "![img](data:image/svg+xml,<svg onload=alert(1)>)",
    # heading ids
    '## x" onclick="alert(1)',
    '## <h2 id="x" onmouseover="alert(1)">y</h2>',
    # frames, objects, forms, styles and other elements
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    "<style>body{background:url('javascript:alert(1)')}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<link rel=stylesheet href="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text y="20">x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
    # HTML entity tricks
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#x3C;img src=x onerror=alert(1)&#x3E;",
    # inside other Markdown
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "> <script>alert(1)</script>",
    "* [x](javascript:alert(1))\n* <img src=x onerror=alert(1)>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |\n| [x](javascript:alert(1)) |",
    '| a |\n|--:|\n| <td class="x" style="background:url(javascript:alert(1))"> |',
    "# <script>alert(1)</script>",
    "**<a href='javascript:alert(1)'>bold</a>**",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_decl(self, decl: str) -> None:
        self.other.append(decl)

    def handle_pi(self, data: str) -> None:
        self.other.append(data)

    def unknown_decl(self, data: str) -> None:
        self.other.append(data)


def _scheme(url: str) -> str | None:
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", url).lower()
    match = re.match(r"^([a-z][a-z0-9+.\-]*):", cleaned)
    return match.group(1) if match else None


def assert_safe(html: str) -> None:
    """No script, no event handler, no dangerous URL, no tag or attribute outside the subset."""
    assert "<script" not in html.lower()
    parsed = _Collector()
    parsed.feed(html)
    parsed.close()
    assert parsed.comments == []
    assert parsed.other == []
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), (name, html)
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, html)
            if name == "href":
                assert _scheme(value or "") in SAFE_SCHEMES | {None}, (value, html)
            if name == "class":
                assert value in ALIGNMENT_CLASSES, (value, html)
            if name == "src":
                assert SITE_IMAGE.match(value or ""), (value, html)
            if name == "id":
                assert re.match(r"^h-[\w-]+$", value or ""), (value, html)
    for bad in ("javascript:", "vbscript:", "data:text"):
        for _tag, attrs in parsed.tags:
            assert all(bad not in (v or "").lower() for _n, v in attrs), html


def test_only_the_alignment_classes_pass_the_sanitiser() -> None:
    """Raw HTML never reaches nh3 from Markdown (it is escaped first), so the class allow-list
    is checked on the sanitiser's own settings."""
    dirty = (
        '<table><tr><td class="align-right evil" style="color:red">a</td>'
        '<th class="align-center">b</th><td class="x">c</td></tr></table>'
        '<p class="align-left">p</p>'
    )
    clean = nh3.clean(
        dirty,
        tags=markdown.ALLOWED_TAGS,
        attributes=markdown.ALLOWED_ATTRIBUTES,
        allowed_classes=markdown.ALLOWED_CLASSES,
    )
    assert clean == (
        '<table><tbody><tr><td class="align-right">a</td><th class="align-center">b</th>'
        '<td class="">c</td></tr></tbody></table><p>p</p>'
    )


def test_the_corpus_is_big_enough() -> None:
    assert len(XSS) >= 40
    assert len(set(XSS)) == len(XSS)


@pytest.mark.parametrize("payload", XSS)
def test_render_leaves_nothing_executable(payload: str) -> None:
    assert_safe(markdown.render(payload))


@pytest.mark.parametrize("payload", XSS)
def test_render_leaves_nothing_executable_inside_other_text(payload: str) -> None:
    assert_safe(markdown.render(f"Before **bold**\n\n{payload}\n\nafter [ok](https://ok.example)"))


def test_the_whole_corpus_in_one_document_is_safe() -> None:
    assert_safe(markdown.render("\n\n".join(XSS)))
    assert_safe(markdown.render("".join(XSS)))


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
    ],
)
def test_raw_html_shows_as_text(payload: str) -> None:
    """Raw HTML is not interpreted: the reader sees what was typed."""
    html = markdown.render(payload)
    assert html.startswith("<p>&lt;")
    assert markdown.plain_text(payload) == payload


@pytest.mark.parametrize(
    "payload",
    [
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "[x][evil]\n\n[evil]: javascript:alert(1)",
    ],
)
def test_a_dangerous_link_is_no_link(payload: str) -> None:
    assert "<a" not in markdown.render(payload)


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("# Title\n\n### Third", '<h1 id="h-title">Title</h1>\n<h3 id="h-third">Third</h3>\n'),
        (
            f"![chart]({ATTACHMENT})",
            f'<p><img src="{ATTACHMENT}" alt="chart" loading="lazy"></p>\n',
        ),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n'),
        ("Use `x < 1`", "<p>Use <code>x &lt; 1</code></p>\n"),
        ("```\nprint('<b>')\n```", "<pre><code>print('&lt;b&gt;')\n</code></pre>\n"),
        (
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n"
            "<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n",
        ),
        (
            "| l | c | r |\n|:--|:-:|--:|\n| 1 | 2 | 3 |",
            '<table>\n<thead>\n<tr>\n<th class="align-left">l</th>\n'
            '<th class="align-center">c</th>\n<th class="align-right">r</th>\n</tr>\n'
            '</thead>\n<tbody>\n<tr>\n<td class="align-left">1</td>\n'
            '<td class="align-center">2</td>\n<td class="align-right">3</td>\n</tr>\n'
            "</tbody>\n</table>\n",
        ),
        (
            '[site](https://example.com "T")',
            '<p><a href="https://example.com" title="T" rel="nofollow noopener noreferrer">'
            "site</a></p>\n",
        ),
        (
            "<https://example.com/x>",
            '<p><a href="https://example.com/x" rel="nofollow noopener noreferrer">'
            "https://example.com/x</a></p>\n",
        ),
        (
            "[mail](mailto:ask@example.com)",
            '<p><a href="mailto:ask@example.com" rel="nofollow noopener noreferrer">mail</a></p>\n',
        ),
        (
            "[ref][r]\n\n[r]: https://example.com/ref",
            '<p><a href="https://example.com/ref" rel="nofollow noopener noreferrer">ref</a></p>\n',
        ),
        ("**b** *i* ~~s~~", "<p><strong>b</strong> <em>i</em> <s>s</s></p>\n"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>\n"),
        ("a\n\n---\n\nb", "<p>a</p>\n<hr>\n<p>b</p>\n"),
        ("line  \nbreak", "<p>line<br>\nbreak</p>\n"),
        ("中文 **加粗** 与 `代码`", "<p>中文 <strong>加粗</strong> 与 <code>代码</code></p>\n"),
        ("Tom &amp; Jerry", "<p>Tom &amp; Jerry</p>\n"),
        ("", ""),
    ],
)
def test_ordinary_markdown_renders(source: str, html: str) -> None:
    assert markdown.render(source) == html
    assert_safe(html)


def test_plain_text_and_excerpt_keep_only_the_words() -> None:
    assert markdown.plain_text("# Hi\n\n**bold** & <b>") == "Hi \n  bold  & <b>"
    assert markdown.excerpt("word " * 100, 20) == "word word word word…"
    assert markdown.excerpt("short") == "short"


# --- Through the API and the portal -------------------------------------------------------------


@pytest.fixture
def question(community: Community) -> Question:
    return published(add_member(community, profile={"handle": "asker"}))


@pytest.mark.parametrize("payload", XSS)
def test_an_answer_through_the_api_is_sanitised(
    api: APIClient, community: Community, question: Question, payload: str
) -> None:
    # given
    api.force_authenticate(add_member(community).user)
    # when
    response = api.post(f"/api/v1/questions/{question.pk}/answers/", {"body": payload})
    # then the body is kept as written and the HTML is safe, in the response and the row
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["body"] == payload.strip()
    assert_safe(data["body_html"])
    stored = Answer.objects.get(pk=data["id"])
    assert stored.body_html == data["body_html"]
    detail = api.get(f"/api/v1/questions/{question.pk}/").json()
    assert_safe(detail["answers"][0]["body_html"])


def test_the_api_preview_is_sanitised(api: APIClient, member: Membership) -> None:
    api.force_authenticate(member.user)
    for payload in XSS:
        response = api.post("/api/v1/markdown/preview/", {"body": payload})
        assert response.status_code == 200
        assert response.json()["html"] == markdown.render(payload)
        assert_safe(response.json()["html"])


def test_the_portal_preview_is_sanitised(client: Client, member: Membership) -> None:
    client.force_login(member.user)
    for payload in XSS:
        response = client.post("/markdown/preview/", {"body": payload})
        assert response.status_code == 200
        assert_safe(response.json()["html"])


def _answer_markdown(page: str, answer_id: int) -> str:
    article = page[page.index(f'id="answer-{answer_id}"') :]
    start = article.index('<div class="markdown">') + len('<div class="markdown">')
    return article[start : article.index('<div class="discussion">')]


def test_an_answer_through_the_portal_is_sanitised_on_its_page(
    client: Client, community: Community, question: Question
) -> None:
    # given the whole corpus as one answer
    author = add_member(community)
    client.force_login(author.user)
    body = "\n\n".join(XSS)
    # when
    response = client.post(f"/c/circle/questions/{question.pk}/answer/", {"body": body})
    # then
    assert response.status_code == 302
    written = Answer.objects.get(author=author)
    assert written.body == body
    assert_safe(written.body_html)
    page = client.get(f"/c/circle/questions/{question.pk}/").content.decode()
    shown = _answer_markdown(page, written.pk)
    assert shown.rstrip().endswith("</div>")
    assert_safe(shown.rstrip()[: -len("</div>")])


def test_a_comment_and_a_brief_are_sanitised_too(
    api: APIClient, community: Community, question: Question, member: Membership
) -> None:
    api.force_authenticate(member.user)
    body = "\n\n".join(XSS)
    written = api.post(f"/api/v1/questions/{question.pk}/answers/", {"body": "fine"}).json()
    said = api.post(f"/api/v1/answers/{written['id']}/comments/", {"body": body[:5000]})
    assert said.status_code == 201
    assert_safe(said.json()["body_html"])
    brief = api.post(
        "/api/v1/communities/circle/questions/",
        {"title": "<script>alert(1)</script>", "background": body[:20000], "wanted": body[:5000]},
    )
    assert brief.status_code == 201
    assert brief.json()["title"] == "<script>alert(1)</script>"  # plain text, escaped on pages
    assert_safe(brief.json()["background_html"])
    assert_safe(brief.json()["wanted_html"])


def test_a_title_with_markup_is_escaped_on_the_page(
    client: Client, community: Community, member: Membership
) -> None:
    question = published(member, title='<img src=x onerror="alert(1)">')
    client.force_login(member.user)
    page = client.get(f"/c/circle/questions/{question.pk}/").content.decode()
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
