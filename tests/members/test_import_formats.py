"""The member import says what is wrong with a file that is not CSV (a spreadsheet, a PDF, an
image, a web page…) and reads the CSV files spreadsheet programs really save: UTF-8 with or
without a mark, GBK/GB18030 (Chinese Excel and WPS), UTF-16 tab-separated (Excel's "Unicode
text") and semicolon-separated (Excel in many locales)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from members import imports
from members.models import Membership
from tests.factories import make_community, organiser_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "spreadsheet", "a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "spreadsheet", "a spreadsheet"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf", "This is a PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(32), "binary", "not a text file"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "binary", "not a text file"),
        (b"SQLite format 3\x00\x10\x00\x01\x01\x00@  ", "binary", "not a text file"),
        (b"email\n" + b"\x00\x01" * 40, "binary", "not a text file"),
        (b"\xff\xfe\x00\x00e\x00\x00\x00", "binary", "not a text file"),
        (b"{\\rtf1\\ansi email}", "document", "(RTF)"),
        (b"<html><body><table><tr><td>email</td></tr></table>", "markup", "a web page"),
        (
            b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>',
            "markup",
            "XML",
        ),
        (b"email\n\xff\xff\xff@example.com\n", "encoding", "CSV UTF-8"),
    ],
)
def test_a_file_that_is_not_csv_is_refused_saying_what_it_is(
    data: bytes, code: str, says: str
) -> None:
    # ``code`` names the case (the ValidationError's code) for the reader
    with pytest.raises(ValidationError) as raised:
        imports.read_rows(data)
    [message] = raised.value.message_dict["file"]
    assert says in message


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        ("email,city\na@example.com,北京\n".encode(), [{"email": "a@example.com", "city": "北京"}]),
        (
            "\ufeffemail,city\na@example.com,北京\n".encode(),
            [{"email": "a@example.com", "city": "北京"}],
        ),
        (
            "email,real_name,city\ngbk@example.com,张三,广州\n".encode("gbk"),
            [{"email": "gbk@example.com", "real_name": "张三", "city": "广州"}],
        ),
        (
            "\ufeffemail\treal_name\r\nu16@example.com\t李四\r\n".encode("utf-16-le"),
            [{"email": "u16@example.com", "real_name": "李四"}],
        ),
        (
            "email;city\nsemi@example.com;São Paulo\n".encode(),
            [{"email": "semi@example.com", "city": "São Paulo"}],
        ),
        (
            b'email,career_path\nq@example.com,"Sales; then product"\n',
            [{"email": "q@example.com", "career_path": "Sales; then product"}],
        ),
    ],
    ids=["utf8", "utf8-bom", "gbk", "utf16-tabs", "semicolons", "semicolon-in-a-cell"],
)
def test_the_csv_files_spreadsheet_programs_save_are_read(
    data: bytes, rows: list[dict[str, str]]
) -> None:
    assert [row for _line, row in imports.read_rows(data)] == rows


def test_a_stray_nul_in_a_cell_is_that_rows_problem() -> None:
    rows = imports.read_rows(b"email,city\nnul@example.com,a\x00b\n")
    assert [row for _line, row in rows] == [{"email": "nul@example.com", "city": "a\x00b"}]


def test_the_portal_shows_the_problem_next_to_the_file_field(client: Client) -> None:
    community = make_community(slug="imp")
    client.force_login(organiser_of(community).user)
    upload = SimpleUploadedFile(
        "members.xlsx",
        b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

    response = client.post(
        "/c/imp/members/import/", {"file": upload, "create_tags": "on"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "This is a spreadsheet (Excel, Numbers or similar), not a CSV file: save it as "
        "“CSV UTF-8” and upload that."
    ]
    html = response.content.decode()
    assert "save it as “CSV UTF-8”" in html
    assert re.search(r'<input[^>]*name="create_tags"[^>]*checked', html)  # kept as chosen
    assert 'id="import-report"' not in html
    assert Membership.objects.filter(community=community).count() == 1


def test_the_portal_imports_a_gbk_file(client: Client) -> None:
    community = make_community(slug="imp")
    client.force_login(organiser_of(community).user)
    upload = SimpleUploadedFile(
        "members.csv", "email,real_name\nwang@example.com,王芳\n".encode("gbk"), "text/csv"
    )

    response = client.post("/c/imp/members/import/", {"file": upload})

    assert response.status_code == 200
    assert Membership.objects.get(user__email="wang@example.com").profile.real_name == "王芳"
