"""Attachments: docx, pdf, md, txt, checked by what the bytes are, not by the file's name.

A name ending in .pdf must hold a PDF, .docx a Word document (a zip with the parts Word
writes), .md and .txt UTF-8 text; anything else, or bytes that do not match the name, is
refused — so a script renamed ``notes.pdf`` never reaches a reader.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from members.models import Membership
from questions.models import Attachment

Kind = Attachment.Kind
_BY_SUFFIX = {".pdf": Kind.PDF, ".docx": Kind.DOCX, ".md": Kind.MARKDOWN, ".txt": Kind.TEXT}
CONTENT_TYPES = {
    Kind.PDF: "application/pdf",
    Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.MARKDOWN: "text/markdown; charset=utf-8",
    Kind.TEXT: "text/plain; charset=utf-8",
}


def _sniff(data: bytes) -> str | None:
    """What the bytes are: one of the kinds, or None."""
    if data.startswith(b"%PDF-"):
        return Kind.PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if {"[Content_Types].xml", "word/document.xml"} <= names:
            return Kind.DOCX
        return None
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return Kind.TEXT


def _clean_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip().replace("\x00", "")
    return base[-200:] or "attachment"


def kind_of(*, name: str, data: bytes) -> str:
    """The attachment's kind, or ValidationError on ``attachment`` saying why not."""
    suffix = PurePath(name.lower()).suffix
    claimed = _BY_SUFFIX.get(suffix)
    if claimed is None:
        raise ValidationError(
            {"attachment": _("Attach a .docx, .pdf, .md or .txt file.")}, code="file_type"
        )
    actual = _sniff(data)
    text_kinds = (Kind.MARKDOWN, Kind.TEXT)
    if actual is None or (
        actual != claimed and not (claimed in text_kinds and actual == Kind.TEXT)
    ):
        raise ValidationError(
            {
                "attachment": _("The file's content is not what its name says (%(suffix)s).")
                % {"suffix": suffix}
            },
            code="file_content",
        )
    return claimed


def _size(limit: int) -> str:
    mb, kb = 1024 * 1024, 1024
    return f"{limit // mb} MB" if limit >= mb else f"{max(limit // kb, 1)} KB"


def attachment_create(*, uploader: Membership, upload: UploadedFile) -> Attachment:
    """Store an upload for ``uploader``'s community after checking its size and content."""
    limit = settings.ATTACHMENT_MAX_BYTES
    too_large = ValidationError(
        {"attachment": _("The file is larger than %(size)s.") % {"size": _size(limit)}},
        code="too_large",
    )
    if upload.size is not None and upload.size > limit:
        raise too_large
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise ValidationError({"attachment": _("The file is empty.")}, code="empty")
    name = _clean_name(upload.name or "")
    kind = kind_of(name=name, data=data)
    attachment = Attachment(
        community_id=uploader.community_id,
        uploaded_by=uploader,
        name=name,
        kind=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    with transaction.atomic():
        attachment.file.save(str(attachment.pk), ContentFile(data), save=False)
        attachment.save()
    return attachment


def attachment_discard(attachment: Attachment | None) -> None:
    """Delete the stored file of an attachment whose row was rolled back with a refused brief
    or answer (the storage is not transactional)."""
    if attachment is not None and attachment.file.name:
        attachment.file.storage.delete(attachment.file.name)
