"""Importing members from a CSV file, with a report of each row that was rejected and why.

Each row is added in its own transaction (through ``services.member_add``), so good rows land
and bad ones change nothing. The file is read as UTF-8 (with or without a byte-order mark) or,
failing that, GB18030 — what spreadsheet programs in China save — or as UTF-16 with its mark
(Excel's "Unicode text"); its columns are separated by commas, semicolons or tabs. A
spreadsheet, a PDF or another file that is not CSV is refused whole, saying what it is and
what to upload instead.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from members import services
from members.audit import Event as MemberEvent
from members.errors import error_dict
from members.models import Community, Membership

COLUMNS: tuple[str, ...] = (
    "email",
    "username",
    "role",
    *services.PROFILE_TEXT_FIELDS,
    *services.PROFILE_TAG_FIELDS,
)
MAX_ROWS = 1000  # a request must finish well inside the web server's timeout


@dataclass
class RowResult:
    line: int
    email: str
    outcome: str  # "added" or "rejected"
    errors: dict[str, list[str]] = field(default_factory=dict)
    membership_id: int | None = None


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(1 for r in self.rows if r.outcome == "added")

    @property
    def rejected(self) -> list[RowResult]:
        return [r for r in self.rows if r.outcome == "rejected"]

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "rejected": len(self.rejected),
            "rows": [
                {
                    "line": r.line,
                    "email": r.email,
                    "outcome": r.outcome,
                    "errors": r.errors,
                    "member": r.membership_id,
                }
                for r in self.rows
            ],
        }


# What people upload instead of CSV, told apart by their first bytes.
_ZIPPED = b"PK\x03\x04"  # .xlsx, .numbers, .ods, .docx, .zip
_OLD_OFFICE = b"\xd0\xcf\x11\xe0"  # .xls, .doc
_PDF = b"%PDF"
_IMAGES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*")
_RTF = b"{\\rtf"
_UTF32 = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF16 = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text": UTF-16, tab-separated
_PEEK = 4096  # how much of the start is looked at for signs of a binary file
_MAX_NULS = 16  # a stray NUL in a cell is the row's problem (reported with the row)
_DELIMITERS = (",", ";", "\t")  # comma; semicolon (Excel in many locales); tab


def _looks_binary(data: bytes) -> bool:
    """An image, or NULs in the header row or many of them near the start (a database, an
    executable…): no CSV file has those."""
    start = data[:_PEEK]
    header = start.split(b"\n", 1)[0]
    return data.startswith(_IMAGES) or b"\x00" in header or start.count(b"\x00") > _MAX_NULS


def _refuse_binary(data: bytes) -> None:
    """Say what is wrong with a spreadsheet, a PDF, an image or another file that is not text
    (decoded, any would read as a line of garbage: a header naming unknown columns)."""
    if data.startswith((_ZIPPED, _OLD_OFFICE)):
        raise ValidationError(
            {
                "file": _(
                    "This is a spreadsheet (Excel, Numbers or similar), not a CSV file: save "
                    "it as “CSV UTF-8” and upload that."
                )
            },
            code="spreadsheet",
        )
    if data.startswith(_PDF):
        raise ValidationError(
            {"file": _("This is a PDF, not a CSV file: upload a CSV file saved in UTF-8.")},
            code="pdf",
        )
    if data.startswith(_RTF):
        raise ValidationError(
            {
                "file": _(
                    "This is a word-processor document (RTF), not a CSV file: save the table "
                    "as “CSV UTF-8” from a spreadsheet program and upload that."
                )
            },
            code="document",
        )
    if data.startswith(_UTF32) or (not data.startswith(_UTF16) and _looks_binary(data)):
        raise ValidationError(
            {
                "file": _(
                    "This is not a text file (it looks like an image or another binary file), "
                    "so it cannot be CSV: upload a CSV file saved in UTF-8."
                )
            },
            code="binary",
        )


def _decode(data: bytes) -> str:
    """The file's text: UTF-16 with its byte-order mark (Excel's "Unicode text"), else UTF-8
    (with or without a mark), else GB18030 (what Excel and WPS in China save; it includes
    GBK and GB2312)."""
    encodings = ("utf-16",) if data.startswith(_UTF16) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise ValidationError(
            {
                "file": _(
                    "This file's characters are in an encoding we cannot read: save it as "
                    "“CSV UTF-8” (in Excel: File → Save As → CSV UTF-8) and upload that."
                )
            },
            code="encoding",
        )
    if text.lstrip().startswith("<"):
        raise ValidationError(
            {
                "file": _(
                    "This looks like a web page or an XML file (a spreadsheet saved as HTML or "
                    "XML?), not CSV: save it as “CSV UTF-8” and upload that."
                )
            },
            code="markup",
        )
    return text


def _delimiter(text: str) -> str:
    """The separator the header row uses most: a comma unless semicolons or tabs win."""
    header = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=header.count) if header else ","


def read_upload(upload: UploadedFile) -> bytes:
    """The bytes of an uploaded file, reading at most one byte past the size limit."""
    return upload.read(settings.MEMBER_IMPORT_MAX_BYTES + 1)


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """Parse the file into (line number, row) pairs, or raise a ValidationError on ``file``."""
    if len(data) > settings.MEMBER_IMPORT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(max)d bytes.")
                % {"max": settings.MEMBER_IMPORT_MAX_BYTES}
            },
            code="too_large",
        )
    _refuse_binary(data)
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError({"file": _("The file is empty.")}, code="empty") from None
    except csv.Error:
        raise ValidationError({"file": _("This is not a CSV file.")}, code="invalid") from None
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    if "email" not in names or unknown:
        raise ValidationError(
            {
                "file": _(
                    "The first row must name the columns; “email” is required. "
                    "Allowed columns: %(columns)s. Unknown: %(unknown)s."
                )
                % {"columns": ", ".join(COLUMNS), "unknown": ", ".join(unknown) or "—"}
            },
            code="header",
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    {"file": _("At most %(max)d rows per file.") % {"max": MAX_ROWS}},
                    code="too_many_rows",
                )
            rows.append((reader.line_num, dict(zip(names, values, strict=False))))
    except csv.Error:
        raise ValidationError(
            {"file": _("Line %(line)d is not valid CSV.") % {"line": reader.line_num}},
            code="invalid",
        ) from None
    return rows


def members_import(
    *, actor: Membership, community: Community, data: bytes, create_tags: bool = False
) -> ImportReport:
    """Import members from CSV bytes. Raises ValidationError on ``file`` for an unreadable file
    (nothing is imported then); otherwise reports each row."""
    rows = read_rows(data)
    report = ImportReport()
    for line, row in rows:
        email = (row.get("email") or "").strip()
        profile = {
            name: row[name]
            for name in (*services.PROFILE_TEXT_FIELDS, *services.PROFILE_TAG_FIELDS)
            if row.get(name, "").strip()
        }
        try:
            membership = services.member_add(
                actor=actor,
                community=community,
                email=email,
                username=(row.get("username") or "").strip() or None,
                role=(row.get("role") or "").strip().lower() or Membership.Role.MEMBER,
                profile=profile,
                create_tags=create_tags,
                sync_phase=False,
            )
        except ValidationError as exc:
            report.rows.append(
                RowResult(line=line, email=email, outcome="rejected", errors=error_dict(exc))
            )
        else:
            report.rows.append(
                RowResult(line=line, email=email, outcome="added", membership_id=membership.pk)
            )
    services.community_sync_phase(community_id=community.pk)
    services.audit(
        community=community,
        event=MemberEvent.MEMBERS_IMPORTED,
        actor=actor.user,
        membership=actor,
        data={"added": report.added, "rejected": len(report.rejected)},
    )
    return report
