"""Builders shared by the questions tests: briefs in each state, answers, comments and the
files attachments are made of. Everything goes through the services, so the rows are the ones
production writes; time is moved by updating rows (freezegun is not installed)."""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any

from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from members import weeks
from members.models import Community, Membership
from questions import attachments, services
from questions.models import Answer, Attachment, Comment, Question, WeekSession
from tests.factories import organiser_of

DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)


def this_week(community: Community) -> datetime.date:
    return weeks.start_of(community)


def brief(
    asker: Membership,
    *,
    title: str = "How do I onboard new users?",
    background: str = "Our **app** keeps few users after a week.",
    wanted: str = "Methods and examples.",
    needs: list[str] | None = None,
    submit: bool = True,
    days_ago: int | None = 10,
    **kwargs: Any,
) -> Question:
    """A brief by ``asker``: submitted ``days_ago`` days ago (early enough for this week), or a
    draft with ``submit=False``."""
    question = services.question_create(
        author=asker,
        title=title,
        background=background,
        wanted=wanted,
        needs=needs,
        submit=submit,
        **kwargs,
    )
    if submit and days_ago is not None:
        Question.objects.filter(pk=question.pk).update(submitted_at=timezone.now() - days_ago * DAY)
        question.refresh_from_db()
    return question


def published(
    asker: Membership,
    *,
    week: datetime.date | None = None,
    challenge: bool = False,
    moderator: Membership | None = None,
    **kwargs: Any,
) -> Question:
    """A brief scheduled into ``week`` (default this week, so it is open)."""
    community = asker.community
    question = brief(asker, **kwargs)
    moderator = moderator or organiser_of(community)
    services.question_schedule(
        moderator=moderator, question=question, week=week or this_week(community)
    )
    if challenge:
        services.question_set_challenge(moderator=moderator, question=question, is_challenge=True)
    question.refresh_from_db()
    return question


def voting_over(question: Question) -> Question:
    """Move an open question into last week's session: its voting has closed, though the
    background job has not marked it closed yet."""
    last = this_week(question.community) - WEEK
    session, _created = WeekSession.objects.get_or_create(community=question.community, week=last)
    Question.objects.filter(pk=question.pk).update(session=session)
    question.refresh_from_db()
    return question


def closed(question: Question) -> Question:
    Question.objects.filter(pk=question.pk).update(state=Question.State.CLOSED)
    question.refresh_from_db()
    return question


def answer(author: Membership, question: Question, body: str = "Talk to *users* first.") -> Answer:
    return services.answer_create(author=author, question=question, body=body)


def comment(
    author: Membership, on: Answer, body: str = "Good point.", parent: Comment | None = None
) -> Comment:
    return services.comment_create(author=author, answer=on, body=body, parent=parent)


def age_comment(item: Comment, minutes: int) -> Comment:
    Comment.objects.filter(pk=item.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )
    item.refresh_from_db()
    return item


# --- Files ----------------------------------------------------------------------------------------

CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
DOCUMENT_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>方法与案例</w:t></w:r></w:p></w:body></w:document>"
)


def _member(name: str, compress_type: int) -> zipfile.ZipInfo:
    """A zip entry with a fixed date: the same document is the same bytes whenever it is
    built (an entry named by its name alone takes the current second)."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = compress_type
    return info


def docx_bytes() -> bytes:
    """The smallest Word document: its content types and its main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_member("[Content_Types].xml", zipfile.ZIP_DEFLATED), CONTENT_TYPES_XML)
        archive.writestr(_member("word/document.xml", zipfile.ZIP_DEFLATED), DOCUMENT_XML)
    return buffer.getvalue()


def zip_bytes() -> bytes:
    """A zip that is not a Word document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_member("notes.txt", zipfile.ZIP_STORED), "not a word document")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MARKDOWN = "# 笔记\n\n- one\n- two\n".encode()
TEXT = "plain notes, 纯文本\n".encode()
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def attach(uploader: Membership, name: str = "brief.pdf", data: bytes = PDF) -> Attachment:
    return attachments.attachment_create(uploader=uploader, upload=upload(name, data))


def use_private_storage(monkeypatch: Any, location: Any) -> FileSystemStorage:
    """Point the attachments' storage at a temporary directory, so tests leave no files."""
    storage = FileSystemStorage(location=str(location), base_url=None)
    monkeypatch.setattr(Attachment._meta.get_field("file"), "storage", storage)
    return storage
