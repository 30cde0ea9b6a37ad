"""Images in answers: uploaded by the editor's image button (or as the answer's attachment
without JavaScript), recognised by their content, refused with a clear message otherwise, and
served — inline, as images — only to those who may read the answer that shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from members.models import Community, Membership
from questions import attachments
from questions.models import Answer, Attachment, Question
from tests.factories import UserFactory, add_member, make_community, set_status
from tests.questions.helpers import PDF, TEXT, published, upload, use_private_storage
from tests.questions.images import GIF, jpeg_header, png_bytes, webp_lossless_header

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = (
    "This is not an image we can show: use a PNG, JPEG, GIF or WebP picture of at most "
    "10000 × 10000 pixels."
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'


@pytest.fixture(autouse=True)
def storage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    return use_private_storage(monkeypatch, tmp_path)


def _stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def question(community: Community) -> Question:
    return published(add_member(community, profile={"handle": "asker"}))


@pytest.fixture
def author(community: Community) -> Membership:
    return add_member(community, profile={"handle": "author"})


def _image_url(question: Question) -> str:
    return reverse(
        "questions:answer_image",
        kwargs={"slug": question.community.slug, "question_id": question.pk},
    )


def _answer_url(question: Question) -> str:
    return reverse(
        "questions:answer", kwargs={"slug": question.community.slug, "question_id": question.pk}
    )


# --- What counts as an image ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png_bytes(4, 3), ("png", 4, 3)),
        (GIF, ("gif", 1, 1)),
        (jpeg_header(640, 480), ("jpeg", 640, 480)),
        (webp_lossless_header(300, 200), ("webp", 300, 200)),
    ],
)
def test_images_are_known_by_their_header(data: bytes, expected: tuple[str, int, int]) -> None:
    assert attachments.image_size(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        SVG,
        PDF,
        TEXT,
        b"\x89PNG\r\n\x1a\n",  # a PNG signature with nothing after it
        png_bytes(10_001, 1)[:40],  # absurdly wide
        png_bytes(4, 3)[:8] + b"\x00\x00\x00\x0dIHDR" + b"\x00" * 8,  # 0 × 0
        b"\xff\xd8\xff\xe0\x00\x02",  # a JPEG without a frame
        b"GIF89a",
    ],
)
def test_anything_else_is_not_an_image(data: bytes) -> None:
    assert attachments.image_size(data) is None


# --- Uploading through the editor's image button ---------------------------------------------


def test_a_member_uploads_an_image_and_gets_its_markdown(
    client: Client, question: Question, author: Membership, tmp_path: Path
) -> None:
    client.force_login(author.user)
    data = png_bytes()
    response = client.post(_image_url(question), {"image": upload("My [chart] (v2).png", data)})
    assert response.status_code == 200
    item = Attachment.objects.get()
    url = f"/attachments/{item.pk}/"
    assert response.json() == {"url": url, "markdown": f"![My chart v2]({url})"}
    assert (item.kind, item.size, item.uploaded_by_id, item.shown_in_id) == (
        "png",
        len(data),
        author.pk,
        None,
    )
    assert [p.read_bytes() for p in _stored_files(tmp_path)] == [data]


@pytest.mark.parametrize(
    ("name", "data"),
    [("logo.svg", SVG), ("photo.png", PDF), ("notes.txt", TEXT), ("empty.png", b"")],
)
def test_a_non_image_is_refused_with_a_message_and_nothing_is_stored(
    client: Client, question: Question, author: Membership, tmp_path: Path, name: str, data: bytes
) -> None:
    client.force_login(author.user)
    response = client.post(_image_url(question), {"image": upload(name, data)})
    assert response.status_code == 400
    assert response.json() == {"error": NOT_AN_IMAGE if data else "The file is empty."}
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_an_image_over_five_megabytes_is_refused(
    client: Client, question: Question, author: Membership, tmp_path: Path
) -> None:
    client.force_login(author.user)
    big = png_bytes() + b"\x00" * (attachments.IMAGE_MAX_BYTES)
    response = client.post(_image_url(question), {"image": upload("big.png", big)})
    assert response.status_code == 400
    assert response.json() == {"error": "The file is larger than 5 MB."}
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_the_upload_needs_a_file_and_a_post(
    client: Client, question: Question, author: Membership
) -> None:
    client.force_login(author.user)
    response = client.post(_image_url(question), {})
    assert (response.status_code, response.json()) == (400, {"error": "Choose an image to upload."})
    assert client.get(_image_url(question)).status_code == 405
    assert Attachment.objects.count() == 0


def test_outsiders_cannot_upload(client: Client, question: Question) -> None:
    response = client.post(_image_url(question), {"image": upload("a.png", png_bytes())})
    assert response.status_code == 302  # to sign in
    client.force_login(add_member(make_community(slug="other")).user)
    response = client.post(_image_url(question), {"image": upload("a.png", png_bytes())})
    assert response.status_code in (403, 404)
    client.force_login(UserFactory())
    response = client.post(_image_url(question), {"image": upload("a.png", png_bytes())})
    assert response.status_code in (403, 404)
    assert Attachment.objects.count() == 0


# --- Shown in an answer, served to its readers ------------------------------------------------


def _upload_image(client: Client, question: Question) -> tuple[Attachment, str]:
    response = client.post(_image_url(question), {"image": upload("chart.png", png_bytes())})
    assert response.status_code == 200
    return Attachment.objects.get(pk=response.json()["url"].split("/")[2]), response.json()[
        "markdown"
    ]


def test_an_image_is_its_uploaders_until_an_answer_shows_it_then_its_readers(
    client: Client, community: Community, question: Question, author: Membership
) -> None:
    # given an image uploaded while writing
    client.force_login(author.user)
    image, image_markdown = _upload_image(client, question)
    url = image.get_absolute_url()
    reader = add_member(community)
    # then before the answer is saved only the author sees it (in the preview)
    assert client.get(url).status_code == 200
    client.force_login(reader.user)
    assert client.get(url).status_code == 404
    # when the answer showing it is saved
    client.force_login(author.user)
    response = client.post(_answer_url(question), {"body": f"## Result\n\n{image_markdown}"})
    assert response.status_code == 302
    saved = Answer.objects.get()
    image.refresh_from_db()
    assert image.shown_in_id == saved.pk
    assert f'<img src="{url}" alt="chart" loading="lazy">' in saved.body_html
    # then a member reads it, served inline as a PNG that cannot run anything
    client.force_login(reader.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="chart.png"'
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == png_bytes()
    # and the question page shows it
    assert f'src="{url}"' in client.get(question.get_absolute_url()).content.decode()
    # but not to those who may not read the answer
    for user in (
        add_member(make_community(slug="other")).user,
        set_status(add_member(community), "active", "candidate").user,
        UserFactory(),
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code in (403, 404)
        assert b"PNG" not in response.content
    client.logout()
    assert client.get(url).status_code == 302


def test_another_members_image_is_not_linked_to_my_answer(
    client: Client, community: Community, question: Question, author: Membership
) -> None:
    # given someone else's image, not yet shown anywhere
    client.force_login(author.user)
    theirs, theirs_markdown = _upload_image(client, question)
    # when I show it in my answer
    me = add_member(community)
    client.force_login(me.user)
    response = client.post(_answer_url(question), {"body": theirs_markdown})
    assert response.status_code == 302
    # then it is not linked, and stays its uploader's alone
    theirs.refresh_from_db()
    assert theirs.shown_in_id is None
    assert client.get(theirs.get_absolute_url()).status_code == 404


def test_a_revision_links_the_images_it_adds(
    client: Client, community: Community, question: Question, author: Membership
) -> None:
    client.force_login(author.user)
    assert client.post(_answer_url(question), {"body": "first"}).status_code == 302
    image, image_markdown = _upload_image(client, question)
    response = client.post(_answer_url(question), {"body": f"first\n\n{image_markdown}"})
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.shown_in_id == Answer.objects.get().pk
    client.force_login(add_member(community).user)
    assert client.get(image.get_absolute_url()).status_code == 200


def test_without_javascript_an_image_is_the_answers_attachment(
    client: Client, community: Community, question: Question, author: Membership
) -> None:
    client.force_login(author.user)
    response = client.post(
        _answer_url(question), {"body": "See the photo", "attachment": upload("board.jpg", GIF)}
    )
    assert response.status_code == 302
    item = Answer.objects.get().attachment
    assert (item.kind, item.name) == ("gif", "board.jpg")
    client.force_login(add_member(community).user)
    response = client.get(item.get_absolute_url())
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")


def test_the_answer_form_refuses_a_disguised_image_keeping_what_was_typed(
    client: Client, question: Question, author: Membership, tmp_path: Path
) -> None:
    client.force_login(author.user)
    response = client.post(
        _answer_url(question), {"body": "My **answer**", "attachment": upload("x.png", SVG)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"attachment": [NOT_AN_IMAGE]}
    assert "My **answer**" in response.content.decode()
    assert Answer.objects.count() == Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_a_brief_still_takes_no_images(client: Client, question: Question) -> None:
    with pytest.raises(attachments.ValidationError) as caught:
        attachments.kind_of(name="photo.png", data=png_bytes())
    assert caught.value.message_dict == {"attachment": ["Attach a .docx, .pdf, .md or .txt file."]}


def test_the_editor_page_has_the_toolbar_and_draft_settings(
    client: Client, question: Question, author: Membership
) -> None:
    client.force_login(author.user)
    page = client.get(_answer_url(question)).content.decode()
    assert f'data-draft-key="answer-draft:{author.user.pk}:{question.pk}"' in page
    assert "data-toolbar hidden" in page  # shown by editor.js; useless without it
    for action in ("bold", "italic", "heading", "link", "list", "quote", "code", "image"):
        assert f'data-md="{action}"' in page
    assert f'data-upload-url="{_image_url(question)}"' in page
    assert "data-bound" not in page
    page = client.post(_answer_url(question), {"body": ""}).content.decode()
    assert "data-bound" in page


def test_an_answer_written_through_the_api_links_its_images_too(
    client: Client, community: Community, question: Question, author: Membership
) -> None:
    from rest_framework.test import APIClient

    # given an image the author uploaded while writing
    client.force_login(author.user)
    image, image_markdown = _upload_image(client, question)
    # when the answer showing it is posted through the API
    api = APIClient()
    api.force_authenticate(author.user)
    response = api.post(
        f"/api/v1/questions/{question.pk}/answers/", {"body": f"See:\n\n{image_markdown}"}
    )
    assert response.status_code == 201
    # then its readers may see the image
    image.refresh_from_db()
    assert image.shown_in_id == response.json()["id"]
    client.force_login(add_member(community).user)
    assert client.get(image.get_absolute_url()).status_code == 200
