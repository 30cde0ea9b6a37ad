"""CSV import: good rows are added, each bad row is reported with its reason, and a bad row
changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from members import imports
from members.audit import Event as MemberEvent
from members.models import CommunityAuditLog, Membership, Tag, User
from tests.factories import UserFactory, add_member, make_community, organiser_of, tag

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "email,username,role,handle,real_name,company,city,skills,needs\n"
    "ok1@example.com,okone,member,小王,王小明,星河科技,上海,交互设计;SQL,招聘\n"  # line 2
    "not-an-email,,member,,,,,,\n"  # line 3: bad e-mail
    "ok2@example.com,,moderator,,,,,,\n"  # line 4
    "bad-role@example.com,,king,,,,,,\n"  # line 5: bad role
    "bad-tag@example.com,,member,,,,,Unknown skill,\n"  # line 6: unknown tag
    "dup-handle@example.com,,member,小王,,,,,\n"  # line 7: handle taken by line 2
    "existing@example.com,,member,,,,,,\n"  # line 8: already a member
    "\n"  # blank lines are skipped
    ",,member,,,,,,\n"  # line 10: no e-mail
)


def _import(data: str | bytes, create_tags: bool = False) -> imports.ImportReport:
    community = make_community(slug="imp")
    tag(community, Tag.Kind.SKILL, "交互设计")
    tag(community, Tag.Kind.SKILL, "SQL")
    tag(community, Tag.Kind.NEED, "招聘")
    add_member(community, user=UserFactory(email="existing@example.com"))
    raw = data.encode() if isinstance(data, str) else data
    return imports.members_import(
        actor=organiser_of(community), community=community, data=raw, create_tags=create_tags
    )


def test_good_rows_are_added_and_each_bad_row_is_reported_with_why() -> None:
    # when
    report = _import(GOOD_AND_BAD)
    # then
    assert report.added == 2
    rejected = {row.line: row for row in report.rejected}
    assert set(rejected) == {3, 5, 6, 7, 8, 10}
    assert list(rejected[3].errors) == ["email"]
    assert list(rejected[5].errors) == ["role"]
    assert list(rejected[6].errors) == ["skills"]
    assert "Unknown skill" in rejected[6].errors["skills"][0]
    assert list(rejected[7].errors) == ["handle"]
    assert list(rejected[8].errors) == ["email"]
    assert list(rejected[10].errors) == ["email"]
    added = Membership.objects.get(user__email="ok1@example.com")
    assert (added.role, added.status, added.joined_via) == ("member", "active", "imported")
    assert added.user.username == "okone"
    profile = added.profile
    assert (profile.handle, profile.real_name, profile.company, profile.city) == (
        "小王",
        "王小明",
        "星河科技",
        "上海",
    )
    assert sorted(t.name for t in profile.tags.all()) == ["SQL", "交互设计", "招聘"]
    assert Membership.objects.get(user__email="ok2@example.com").role == "moderator"


def test_a_rejected_row_writes_nothing() -> None:
    _import(GOOD_AND_BAD)
    for email in ("bad-role@example.com", "bad-tag@example.com", "dup-handle@example.com"):
        assert not User.objects.filter(email=email).exists()
    assert Membership.objects.filter(community__slug="imp").count() == 4  # organiser, existing, 2
    audit = CommunityAuditLog.objects.get(event=MemberEvent.MEMBERS_IMPORTED)
    assert audit.data == {"added": 2, "rejected": 6}


def test_unknown_tags_can_be_added_to_the_vocabulary_on_request() -> None:
    report = _import(
        "email,skills,hobbies\nnew@example.com,新技能；SQL,围棋、Chess\n", create_tags=True
    )
    assert (report.added, len(report.rejected)) == (1, 0)
    names = set(Tag.objects.filter(community__slug="imp").values_list("kind", "name"))
    assert {("skill", "新技能"), ("hobby", "围棋"), ("hobby", "Chess")} <= names


def test_gb18030_files_from_spreadsheets_are_read() -> None:
    report = _import("email,real_name,city\ngbk@example.com,张三,北京\n".encode("gb18030"))
    assert report.added == 1
    assert Membership.objects.get(user__email="gbk@example.com").profile.real_name == "张三"


def test_a_utf8_bom_is_ignored() -> None:
    report = _import("\ufeffemail\nbom@example.com\n".encode())
    assert report.added == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,city\nx,y\n", "email"),
        (b"email,shoe_size\na@b.cn,42\n", "shoe_size"),
        (b"\xff\xfe\x00\x00garbage", "UTF-8"),
        # what people upload instead: the message says what it is and what to do
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "save it as “CSV UTF-8”"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "a spreadsheet"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "This is a PDF"),
    ],
)
def test_an_unreadable_file_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _import(data)
    assert list(excinfo.value.message_dict) == ["file"]
    assert message in " ".join(excinfo.value.message_dict["file"])
    assert Membership.objects.filter(community__slug="imp").count() == 2


def test_portal_import_shows_the_report(client: Client) -> None:
    community = make_community(slug="imp")
    client.force_login(organiser_of(community).user)
    upload = SimpleUploadedFile(
        "members.csv", b"email,role\nfine@example.com,member\nnope,member\n", "text/csv"
    )
    response = client.post("/c/imp/members/import/", {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="import-report"' in html
    assert '<tr class="rejected"><td>3</td><td>nope</td>' in html
    assert Membership.objects.filter(user__email="fine@example.com").exists()


def test_portal_import_refuses_members(client: Client) -> None:
    community = make_community(slug="imp")
    member = add_member(community)
    client.force_login(member.user)
    upload = SimpleUploadedFile("m.csv", b"email\nsneaky@example.com\n", "text/csv")
    response = client.post("/c/imp/members/import/", {"file": upload})
    assert response.status_code == 403
    assert not User.objects.filter(email="sneaky@example.com").exists()
