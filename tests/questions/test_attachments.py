"""Attachments: docx, pdf, md and txt, checked by what the bytes are, not by the name; a size
limit; nothing saved on refusal; served only to those who may read what they are attached to,
and never through a public URL."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import Community, Membership
from questions import services
from questions.models import Answer, Attachment, Question
from tests.factories import UserFactory, add_member, make_community, set_status
from tests.questions.helpers import (
    EXE,
    HTML,
    MARKDOWN,
    PDF,
    TEXT,
    attach,
    brief,
    docx_bytes,
    published,
    upload,
    use_private_storage,
    zip_bytes,
)

pytestmark = pytest.mark.django_db

WRONG_TYPE = "Attach a .docx, .pdf, .md or .txt file."


def _mismatch(suffix: str) -> str:
    return f"The file's content is not what its name says ({suffix})."


@pytest.fixture(autouse=True)
def storage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    return use_private_storage(monkeypatch, tmp_path)


def _stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def asker(community: Community) -> Membership:
    return add_member(community, profile={"handle": "asker"})


# --- Accepted by content -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("brief.docx", docx_bytes(), "docx"),
        ("brief.pdf", PDF, "pdf"),
        ("notes.md", MARKDOWN, "md"),
        ("notes.txt", TEXT, "txt"),
        ("NOTES.PDF", PDF, "pdf"),
        ("方法 与 案例.docx", docx_bytes(), "docx"),
        ("readme.md", b"plain ascii is text too\n", "md"),
    ],
)
def test_a_document_is_accepted_by_its_content(
    asker: Membership, tmp_path: Path, name: str, data: bytes, kind: str
) -> None:
    # when
    item = attach(asker, name, data)
    # then
    item.refresh_from_db()
    assert (item.name, item.kind, item.size, item.sha256) == (
        name,
        kind,
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert (item.community_id, item.uploaded_by_id) == (asker.community_id, asker.pk)
    # stored under a name nobody can guess and that says nothing of the original
    assert item.file.name == f"{asker.community_id}/{item.pk}"
    assert _stored_files(tmp_path) == [tmp_path / str(asker.community_id) / str(item.pk)]
    with item.file.open("rb") as stored:
        assert stored.read() == data


def test_a_path_in_the_file_name_is_dropped(asker: Membership) -> None:
    item = attach(asker, "../../etc/passwd.txt", TEXT)
    assert item.name == "passwd.txt"
    item = attach(asker, "C:\\Users\\me\\notes.md", MARKDOWN)
    assert item.name == "notes.md"


# --- Refused: disguised, wrong type, empty, too big ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.pdf", HTML, _mismatch(".pdf")),  # a web page called a PDF
        ("notes.docx", HTML, _mismatch(".docx")),
        ("notes.docx", zip_bytes(), _mismatch(".docx")),  # a zip, but not a Word document
        ("notes.docx", b"PK\x03\x04" + b"\x00" * 200, _mismatch(".docx")),  # a broken zip
        ("notes.pdf", docx_bytes(), _mismatch(".pdf")),  # a Word document called a PDF
        ("notes.docx", PDF, _mismatch(".docx")),  # a PDF called a Word document
        ("notes.txt", PDF, _mismatch(".txt")),  # a PDF called text
        ("notes.md", docx_bytes(), _mismatch(".md")),
        ("notes.txt", EXE, _mismatch(".txt")),  # a program called text
        ("notes.md", b"\xff\xfe\xfd not utf-8", _mismatch(".md")),
        ("tool.exe", EXE, WRONG_TYPE),
        ("notes.pdf.exe", PDF, WRONG_TYPE),
        ("page.html", HTML, WRONG_TYPE),
        ("image.svg", b"<svg onload=alert(1)>", WRONG_TYPE),
        ("archive.zip", zip_bytes(), WRONG_TYPE),
        ("no-extension", TEXT, WRONG_TYPE),
        ("notes.txt", b"", "The file is empty."),
    ],
)
def test_a_disguised_or_unwanted_file_is_refused_and_nothing_is_saved(
    asker: Membership, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        attach(asker, name, data)
    assert caught.value.message_dict == {"attachment": [message]}
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_a_file_over_the_limit_is_refused_and_one_at_the_limit_accepted(
    settings: Any, asker: Membership, tmp_path: Path
) -> None:
    # given a limit of 2 MB
    settings.ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    # when
    with pytest.raises(ValidationError) as caught:
        attach(asker, "big.txt", b"x" * (2 * 1024 * 1024 + 1))
    # then
    assert caught.value.message_dict == {"attachment": ["The file is larger than 2 MB."]}
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []
    assert attach(asker, "max.txt", b"x" * (2 * 1024 * 1024)).size == 2 * 1024 * 1024


def test_the_default_limit_is_ten_megabytes(asker: Membership, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        attach(asker, "big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    assert caught.value.message_dict == {"attachment": ["The file is larger than 10 MB."]}
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_a_small_limit_refuses_a_file_just_over_it(settings: Any, asker: Membership) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as caught:
        attach(asker, "notes.txt", b"x" * 101)
    assert list(caught.value.message_dict) == ["attachment"]
    assert Attachment.objects.count() == 0
    assert attach(asker, "notes.txt", b"x" * 100).size == 100


# --- Through the portal and the API: nothing saved on refusal ---------------------------------


def _brief_form(**extra: Any) -> dict[str, Any]:
    return {"title": "T", "background": "B", "wanted": "W", "submit": "1", **extra}


def test_the_portal_brief_form_takes_a_docx(
    client: Client, asker: Membership, tmp_path: Path
) -> None:
    client.force_login(asker.user)
    response = client.post(
        "/c/circle/questions/new/",
        _brief_form(attachment=upload("brief.docx", docx_bytes())),
    )
    assert response.status_code == 302
    question = Question.objects.get()
    assert (question.attachment.name, question.attachment.kind) == ("brief.docx", "docx")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("brief.pdf", HTML, _mismatch(".pdf")),
        ("brief.docx", zip_bytes(), _mismatch(".docx")),
        ("setup.exe", EXE, WRONG_TYPE),
    ],
)
def test_the_portal_brief_form_refuses_a_disguised_file_and_saves_nothing(
    client: Client, asker: Membership, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    client.force_login(asker.user)
    response = client.post("/c/circle/questions/new/", _brief_form(attachment=upload(name, data)))
    assert response.status_code == 200
    assert response.context["form"].errors == {"attachment": [message]}
    assert Question.objects.count() == Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_the_portal_brief_form_saves_no_file_when_the_brief_is_refused(
    client: Client, community: Community, asker: Membership, tmp_path: Path
) -> None:
    """A good file with a brief that is too late for its week: neither is kept."""
    from members import weeks

    client.force_login(asker.user)
    response = client.post(
        "/c/circle/questions/new/",
        _brief_form(
            attachment=upload("brief.pdf", PDF),
            preferred_week=weeks.label(weeks.start_of(community)),
        ),
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["preferred_week"]
    assert Question.objects.count() == Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_the_portal_answer_form_takes_a_pdf_and_refuses_a_disguised_one(
    client: Client, community: Community, asker: Membership, tmp_path: Path
) -> None:
    # given
    question = published(asker)
    author = add_member(community)
    client.force_login(author.user)
    url = f"/c/circle/questions/{question.pk}/answer/"
    # when a web page called a PDF comes with the answer: nothing is saved
    response = client.post(url, {"body": "See file", "attachment": upload("a.pdf", HTML)})
    assert response.status_code == 200
    assert response.context["form"].errors == {"attachment": [_mismatch(".pdf")]}
    assert Answer.objects.count() == Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []
    # when a real PDF comes
    response = client.post(url, {"body": "See file", "attachment": upload("a.pdf", PDF)})
    assert response.status_code == 302
    assert Answer.objects.get().attachment.kind == "pdf"


def test_the_portal_answer_form_saves_no_file_when_the_answer_is_refused(
    client: Client, community: Community, asker: Membership, tmp_path: Path
) -> None:
    """A good file with a second answer (refused): the file is not kept either."""
    question = published(asker)
    author = add_member(community)
    services.answer_create(author=author, question=question, body="first")
    Question.objects.filter(pk=question.pk).update(state=Question.State.CLOSED)
    client.force_login(author.user)
    response = client.post(
        f"/c/circle/questions/{question.pk}/answer/",
        {"body": "revised", "attachment": upload("a.pdf", PDF)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "body": ["Voting on this question has closed; answers can no longer change."]
    }
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []
    assert Answer.objects.get().body == "first"


def test_the_api_upload_takes_a_docx(api: APIClient, asker: Membership) -> None:
    api.force_authenticate(asker.user)
    response = api.post(
        "/api/v1/communities/circle/attachments/",
        {"file": upload("brief.docx", docx_bytes())},
        format="multipart",
    )
    assert response.status_code == 201
    item = Attachment.objects.get()
    assert response.json() == {
        "id": str(item.pk),
        "name": "brief.docx",
        "kind": "docx",
        "size": len(docx_bytes()),
        "url": f"/attachments/{item.pk}/",
    }


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("brief.pdf", HTML, _mismatch(".pdf")),
        ("brief.txt", PDF, _mismatch(".txt")),
        ("run.exe", EXE, WRONG_TYPE),
    ],
)
def test_the_api_upload_refuses_a_disguised_file_naming_the_field(
    api: APIClient, asker: Membership, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    api.force_authenticate(asker.user)
    response = api.post(
        "/api/v1/communities/circle/attachments/", {"file": upload(name, data)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"file": [message]}
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_the_api_upload_refuses_an_oversized_file(
    settings: Any, api: APIClient, asker: Membership, tmp_path: Path
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    api.force_authenticate(asker.user)
    response = api.post(
        "/api/v1/communities/circle/attachments/",
        {"file": upload("big.txt", b"x" * (1024 * 1024 + 1))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"file": ["The file is larger than 1 MB."]}
    assert Attachment.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_the_api_upload_needs_a_file(api: APIClient, asker: Membership) -> None:
    api.force_authenticate(asker.user)
    response = api.post("/api/v1/communities/circle/attachments/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["Choose a file."]}


@pytest.mark.parametrize("who", ["lapsed", "other_community", "visitor"])
def test_only_active_members_and_candidates_upload(
    api: APIClient, community: Community, who: str
) -> None:
    if who == "visitor":
        user = UserFactory()
    elif who == "other_community":
        user = add_member(make_community(slug="other")).user
    else:
        user = set_status(add_member(community), "lapsed").user
    api.force_authenticate(user)
    response = api.post(
        "/api/v1/communities/circle/attachments/",
        {"file": upload("a.pdf", PDF)},
        format="multipart",
    )
    assert response.status_code == 403
    assert Attachment.objects.count() == 0


def test_a_file_uploaded_by_someone_else_cannot_be_attached(
    api: APIClient, community: Community, asker: Membership
) -> None:
    # given a file another member uploaded
    theirs = attach(add_member(community), "theirs.pdf", PDF)
    api.force_authenticate(asker.user)
    # when
    response = api.post(
        "/api/v1/communities/circle/questions/",
        {"title": "T", "background": "B", "wanted": "W", "attachment": str(theirs.pk)},
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"attachment": ["Attach a file you uploaded here."]}
    assert Question.objects.count() == 0
    with pytest.raises(ValidationError) as caught:
        services.question_create(
            author=asker, title="T", background="B", wanted="W", attachment=theirs
        )
    assert caught.value.message_dict == {"attachment": ["Attach a file you uploaded here."]}
    assert Question.objects.count() == 0


# --- Served only to those who may read -----------------------------------------------------------


def _download(client: Client, item: Attachment) -> Any:
    return client.get(f"/attachments/{item.pk}/")


def _assert_served(response: Any, item: Attachment, data: bytes, content_type: str) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{item.name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == data


@pytest.fixture
def brief_file(asker: Membership) -> Attachment:
    item = attach(asker, "brief.pdf", PDF)
    published(asker, attachment=item)
    return item


def test_members_download_a_questions_file(
    client: Client, community: Community, brief_file: Attachment
) -> None:
    client.force_login(add_member(community).user)
    _assert_served(_download(client, brief_file), brief_file, PDF, "application/pdf")


def test_a_lapsed_member_still_downloads_it(
    client: Client, community: Community, brief_file: Attachment
) -> None:
    client.force_login(set_status(add_member(community), "lapsed").user)
    assert _download(client, brief_file).status_code == 200


@pytest.mark.parametrize("who", ["visitor", "other_community", "candidate", "pending"])
def test_others_do_not_download_a_questions_file(
    client: Client, community: Community, brief_file: Attachment, who: str
) -> None:
    if who == "visitor":
        user = UserFactory()
    elif who == "other_community":
        user = add_member(make_community(slug="other")).user
    elif who == "candidate":
        user = set_status(add_member(community), "active", "candidate").user
    else:
        user = set_status(add_member(community), "pending").user
    client.force_login(user)
    response = _download(client, brief_file)
    assert response.status_code == {"pending": 404}.get(who, 403)
    assert b"%PDF" not in response.content


def test_an_anonymous_download_is_sent_to_sign_in(client: Client, brief_file: Attachment) -> None:
    response = _download(client, brief_file)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/attachments/{brief_file.pk}/"


def test_an_unknown_file_is_404(client: Client, member: Membership) -> None:
    client.force_login(member.user)
    assert client.get(f"/attachments/{uuid.uuid4()}/").status_code == 404
    assert client.get("/attachments/not-a-uuid/").status_code == 404


def test_a_submitted_briefs_file_is_for_its_asker_and_the_moderators(
    client: Client, community: Community, asker: Membership, moderator: Membership
) -> None:
    item = attach(asker, "notes.md", MARKDOWN)
    brief(asker, attachment=item)
    for who, status in ((asker, 200), (moderator, 200), (add_member(community), 404)):
        client.force_login(who.user)
        assert _download(client, item).status_code == status, who


def test_a_file_not_attached_yet_is_for_its_uploader_only(
    client: Client, community: Community, asker: Membership, moderator: Membership
) -> None:
    item = attach(asker, "draft.txt", TEXT)
    client.force_login(asker.user)
    _assert_served(_download(client, item), item, TEXT, "text/plain; charset=utf-8")
    for who in (moderator, add_member(community)):
        client.force_login(who.user)
        assert _download(client, item).status_code == 404


def test_an_answers_file_follows_the_answer(
    client: Client, community: Community, asker: Membership
) -> None:
    # given a challenge question answered by a member (with a file) and by a candidate
    question = published(asker, challenge=True)
    author = add_member(community)
    members_file = attach(author, "method.docx", docx_bytes())
    services.answer_create(author=author, question=question, body="see", attachment=members_file)
    candidate = services.challenge_answer_create(
        user=UserFactory(), question=question, body="mine"
    ).author
    candidates_file = attach(candidate, "mine.md", MARKDOWN)
    services.answer_revise(
        author=candidate,
        answer=Answer.objects.get(author=candidate),
        body="mine",
        attachment=candidates_file,
    )
    # then members read both; the candidate only their own; a visitor neither
    client.force_login(add_member(community).user)
    _assert_served(
        _download(client, members_file),
        members_file,
        docx_bytes(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    assert _download(client, candidates_file).status_code == 200
    client.force_login(candidate.user)
    assert _download(client, candidates_file).status_code == 200
    assert _download(client, members_file).status_code == 403
    client.force_login(UserFactory())
    assert _download(client, members_file).status_code == 403
    assert _download(client, candidates_file).status_code == 403


def test_a_visitor_downloads_a_challenge_briefs_file(
    client: Client, community: Community, asker: Membership, moderator: Membership
) -> None:
    # given a challenge question with a file
    item = attach(asker, "brief.pdf", PDF)
    question = published(asker, attachment=item, challenge=True)
    # then someone signed in but not a member downloads it, and so does a visitor who is not
    # signed in: the challenge page is public, and the file is part of it
    client.force_login(UserFactory())
    _assert_served(_download(client, item), item, PDF, "application/pdf")
    client.logout()
    _assert_served(_download(client, item), item, PDF, "application/pdf")
    # but not once it stops being a challenge
    services.question_set_challenge(moderator=moderator, question=question, is_challenge=False)
    response = _download(client, item)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- No public URL -------------------------------------------------------------------------------


def test_the_attachments_storage_is_outside_media_root(settings: Any) -> None:
    configured = storages.create_storage(settings.STORAGES["attachments"])
    media_root = Path(settings.MEDIA_ROOT).resolve()
    location = Path(configured.location).resolve()
    assert media_root not in (location, *location.parents)
    field = Attachment._meta.get_field("file")
    assert type(field._storage_callable()) is type(configured)  # the "attachments" storage


def test_the_attachments_storage_has_no_url(settings: Any) -> None:
    configured = storages.create_storage(settings.STORAGES["attachments"])
    with pytest.raises(NotImplementedError, match="no URL"):
        configured.url("1/abc")


def test_media_url_does_not_serve_an_attachment(
    client: Client, settings: Any, asker: Membership, member: Membership
) -> None:
    item = attach(asker, "brief.pdf", PDF)
    published(asker, attachment=item)
    client.force_login(member.user)
    for path in (
        f"/{settings.MEDIA_URL}{item.file.name}",
        f"/{settings.MEDIA_URL}{item.name}",
        f"/private-media/{item.file.name}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"%PDF" not in response.content


def test_pages_link_the_file_through_the_checked_view(
    client: Client, asker: Membership, member: Membership
) -> None:
    item = attach(asker, "brief.pdf", PDF)
    question = published(asker, attachment=item)
    client.force_login(member.user)
    html = client.get(f"/c/circle/questions/{question.pk}/").content.decode()
    assert f'href="/attachments/{item.pk}/"' in html
    assert "/media/" not in html


def test_an_upload_keeps_the_time_it_came(asker: Membership) -> None:
    before = timezone.now()
    item = attach(asker)
    assert before <= item.created_at <= timezone.now()
