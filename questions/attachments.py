"""Attachments: docx, pdf, md, txt, checked by what the bytes are, not by the file's name.

A name ending in .pdf must hold a PDF, .docx a Word document (a zip with the parts Word
writes), .md and .txt UTF-8 text; anything else, or bytes that do not match the name, is
refused — so a script renamed ``notes.pdf`` never reaches a reader.

Answers may also carry images (png, jpeg, gif, webp; never SVG, which can hold scripts),
recognised by their header and refused when their size in pixels cannot be read or is absurd.
An image shown in an answer's body is linked to that answer (``images_link``) so that it is
served to whoever may read the answer (questions.access.access_attachment).
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
from questions import markdown
from questions.models import Answer, Attachment

Kind = Attachment.Kind
_BY_SUFFIX = {".pdf": Kind.PDF, ".docx": Kind.DOCX, ".md": Kind.MARKDOWN, ".txt": Kind.TEXT}
CONTENT_TYPES = {
    Kind.PDF: "application/pdf",
    Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.MARKDOWN: "text/markdown; charset=utf-8",
    Kind.TEXT: "text/plain; charset=utf-8",
    Kind.PNG: "image/png",
    Kind.JPEG: "image/jpeg",
    Kind.GIF: "image/gif",
    Kind.WEBP: "image/webp",
}
IMAGE_KINDS = frozenset({Kind.PNG, Kind.JPEG, Kind.GIF, Kind.WEBP})
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_MAX_SIDE = 10_000  # pixels; a larger image is a mistake or a decompression bomb


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


def _be(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's first start-of-frame segment."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # segments without a length
            i += 2
            continue
        length = _be(data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return _be(data[i + 7 : i + 9]), _be(data[i + 5 : i + 7])
        if length < 2:
            return None
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return _le(data[24:27]) + 1, _le(data[27:30]) + 1
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = _le(data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return _le(data[26:28]) & 0x3FFF, _le(data[28:30]) & 0x3FFF
    return None


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """What image the bytes are and its width and height in pixels, or None if they are not
    a png, jpeg, gif or webp image whose size can be read."""
    found: tuple[str, tuple[int, int] | None]
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        found = Kind.PNG, (_be(data[16:20]), _be(data[20:24]))
    elif data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        found = Kind.GIF, (_le(data[6:8]), _le(data[8:10]))
    elif data.startswith(b"\xff\xd8\xff"):
        found = Kind.JPEG, _jpeg_size(data)
    elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        found = Kind.WEBP, _webp_size(data)
    else:
        return None
    kind, size = found
    if size is None or not all(0 < side <= IMAGE_MAX_SIDE for side in size):
        return None
    return kind, size[0], size[1]


def image_kind(*, data: bytes, field: str = "image") -> str:
    """The image's kind, or ValidationError on ``field`` saying why not."""
    found = image_size(data)
    if found is None:
        raise ValidationError(
            {
                field: _(
                    "This is not an image we can show: use a PNG, JPEG, GIF or WebP picture "
                    "of at most %(side)d × %(side)d pixels."
                )
                % {"side": IMAGE_MAX_SIDE}
            },
            code="image_content",
        )
    return found[0]


def _clean_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip().replace("\x00", "")
    return base[-200:] or "attachment"


def kind_of(*, name: str, data: bytes, images: bool = False) -> str:
    """The attachment's kind, or ValidationError on ``attachment`` saying why not. With
    ``images`` (an answer's attachment), a png, jpeg, gif or webp image too."""
    suffix = PurePath(name.lower()).suffix
    if images and suffix in _IMAGE_SUFFIXES:
        return image_kind(data=data, field="attachment")
    claimed = _BY_SUFFIX.get(suffix)
    if claimed is None and images:
        raise ValidationError(
            {"attachment": _("Attach a .docx, .pdf, .md or .txt file, or an image.")},
            code="file_type",
        )
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


def _read(upload: UploadedFile, *, limit: int, field: str) -> bytes:
    too_large = ValidationError(
        {field: _("The file is larger than %(size)s.") % {"size": _size(limit)}},
        code="too_large",
    )
    if upload.size is not None and upload.size > limit:
        raise too_large
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise ValidationError({field: _("The file is empty.")}, code="empty")
    return data


def attachment_create(
    *, uploader: Membership, upload: UploadedFile, images: bool = False
) -> Attachment:
    """Store an upload for ``uploader``'s community after checking its size and content
    (``images``: an answer's attachment, which may be an image)."""
    data = _read(upload, limit=settings.ATTACHMENT_MAX_BYTES, field="attachment")
    name = _clean_name(upload.name or "")
    kind = kind_of(name=name, data=data, images=images)
    return _store(uploader=uploader, name=name, kind=kind, data=data)


def image_create(*, uploader: Membership, upload: UploadedFile) -> Attachment:
    """Store an image to show in an answer (the editor's image button), judged by its content
    alone; errors are on ``image``. Until an answer shows it, only its uploader may see it."""
    data = _read(upload, limit=min(IMAGE_MAX_BYTES, settings.ATTACHMENT_MAX_BYTES), field="image")
    kind = image_kind(data=data)
    name = _clean_name(upload.name or "") if upload.name else "image"
    return _store(uploader=uploader, name=name, kind=kind, data=data)


def _store(*, uploader: Membership, name: str, kind: str, data: bytes) -> Attachment:
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


def images_link(*, answer: Answer) -> int:
    """Link the images ``answer``'s body shows to it, so its readers may see them: only its
    author's own images, not yet shown in another answer. Returns how many were linked."""
    ids = markdown.image_ids(answer.body)
    if not ids:
        return 0
    return Attachment.objects.filter(
        pk__in=ids,
        uploaded_by_id=answer.author_id,
        kind__in=IMAGE_KINDS,
        shown_in__isnull=True,
    ).update(shown_in=answer)


def attachment_discard(attachment: Attachment | None) -> None:
    """Delete the stored file of an attachment whose row was rolled back with a refused brief
    or answer (the storage is not transactional)."""
    if attachment is not None and attachment.file.name:
        attachment.file.storage.delete(attachment.file.name)
