"""SPEC §4: bad input gets a clear error (HTTP 400 naming the field, or a form error) and
changes nothing; an unknown community is a 404 everywhere; no request produces a 500.

The last test walks every URL pattern of the portal and the API (admin aside) as an organiser,
a member and a visitor, with GET and POST (and PATCH and PUT on the API) and a set of nasty
inputs. Addresses that name a question, answer, comment, attachment or week get real ones (a
published question with an attachment, an answer, a comment, a submitted brief), so the
requests reach the views and services behind them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.http import QueryDict
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from members import weeks
from members.models import Community, CommunityAuditLog, Membership, Profile, Tag, User
from questions import services as question_services
from questions.models import Answer, Attachment, Comment, Digest, DigestItem, Question
from rewards import services as money_services
from rewards.models import CheckoutSession, Payment, PayoutBatch, Prize, WeekClose
from tests.factories import PASSWORD, UserFactory, add_member, make_community, organiser_of
from tests.questions.helpers import (
    EXE,
    HTML,
    PDF,
    attach,
    brief,
    docx_bytes,
    published,
    use_private_storage,
)
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

MONEY_ERROR = "Send the amount as an integer number of minor units (fen), e.g. 20000."


def _counts() -> tuple[int, ...]:
    return (
        Community.objects.count(),
        Membership.objects.count(),
        Profile.objects.count(),
        Tag.objects.count(),
        User.objects.count(),
        CommunityAuditLog.objects.count(),
    )


def _community_row(community: Community) -> dict[str, Any]:
    community.refresh_from_db()
    return model_to_dict(community)


def _profile_row(membership: Membership) -> tuple[Any, ...]:
    profile = Profile.objects.get(membership=membership)
    return (
        model_to_dict(profile, exclude=["tags"]),
        sorted(profile.tags.values_list("kind", "name")),
    )


# --- Communities: create -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": "Bad Slug"}, "slug", None),
        ({"slug": "x"}, "slug", None),
        ({"slug": "a" * 51}, "slug", "Ensure this field has no more than 50 characters."),
        ({"slug": "-starts-with-hyphen"}, "slug", None),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"name": "a\x00b"}, "name", "Null characters are not allowed."),
        ({"name": ["a", "b"]}, "name", "Not a valid string."),
        ({"entrance_fee": -1}, "entrance_fee", "Ensure this value is greater than or equal to 0."),
        ({"monthly_fee": -100}, "monthly_fee", "Ensure this value is greater than or equal to 0."),
        ({"entrance_fee": "200.00"}, "entrance_fee", MONEY_ERROR),
        ({"entrance_fee": 200.0}, "entrance_fee", MONEY_ERROR),
        ({"entrance_fee": "20000"}, "entrance_fee", MONEY_ERROR),
        ({"monthly_fee": 10.5}, "monthly_fee", MONEY_ERROR),
        ({"entrance_fee": True}, "entrance_fee", MONEY_ERROR),
        ({"entrance_fee": [20000]}, "entrance_fee", MONEY_ERROR),
        ({"entrance_fee": None}, "entrance_fee", "This field may not be null."),
        ({"entrance_fee": 10**20}, "entrance_fee", None),
        ({"currency": "XXX"}, "currency", '"XXX" is not a valid choice.'),
        ({"time_zone": "Mars/Olympus"}, "time_zone", None),
        ({"prize_split": [50, 50]}, "prize_split", "Give one weight for each of the 3 winners."),
        ({"prize_split": "50,30,20"}, "prize_split", None),
        ({"prize_split": [50, -30, 20]}, "prize_split", None),
        ({"privacy_threshold": 0}, "privacy_threshold", None),
        ({"votes_per_member": 0}, "votes_per_member", None),
        ({"week_start": 7}, "week_start", None),
        ({"voting_opens_time": "25:00"}, "voting_opens_time", None),
        ({"tip_fee_percent": 101}, "tip_fee_percent", None),
        ({"payout_hold_hours": -1}, "payout_hold_hours", None),
        ({"payout_hold_hours": 721}, "payout_hold_hours", None),
    ],
)
def test_community_create_refuses_bad_input_naming_the_field_and_saves_nothing(
    api: APIClient, change: dict[str, Any], field: str, message: str | None
) -> None:
    # given
    api.force_authenticate(UserFactory())
    before = _counts()
    # when
    response = api.post("/api/v1/communities/", {"slug": "fine-slug", "name": "Fine", **change})
    # then
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert errors[field]
    if message is not None:
        assert message in str(errors[field])
    assert _counts() == before


UNKNOWN = ["Unknown field."]
READ_ONLY = ["This field cannot be set here."]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"colour": "red"}, {"colour": UNKNOWN}),
        ({"phase": "growth"}, {"phase": UNKNOWN}),  # set by the threshold or the organiser, later
        ({"id": 7, "active_members": 1000}, {"active_members": UNKNOWN, "id": UNKNOWN}),
        ({"created_at": "2020-01-01T00:00:00Z"}, {"created_at": READ_ONLY}),
        (
            {"phase_changed_at": None, "my_role": "x"},
            {"phase_changed_at": READ_ONLY, "my_role": UNKNOWN},
        ),
    ],
)
def test_community_create_names_unknown_and_read_only_fields(
    api: APIClient, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    api.force_authenticate(UserFactory())
    before = _counts()
    response = api.post("/api/v1/communities/", {"slug": "fine-slug", "name": "Fine", **body})
    assert response.status_code == 400
    assert response.json() == errors
    assert _counts() == before


def test_community_create_with_a_taken_slug(api: APIClient, community: Community) -> None:
    api.force_authenticate(UserFactory())
    before = _counts()
    response = api.post("/api/v1/communities/", {"slug": "circle", "name": "Again"})
    assert response.status_code == 400
    assert list(response.json()) == ["slug"]
    assert _counts() == before


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("{not json", "application/json", 400, "JSON parse error"),
        ('{"slug": "ok-slug", "name": "X", "entrance_fee": NaN}', "application/json", 400, "NaN"),
        ("[1, 2]", "application/json", 400, "Expected a dictionary, but got list."),
        ("slug=ok-slug&name=X", "text/plain", 415, 'Unsupported media type "text/plain"'),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    api: APIClient, body: str, content_type: str, status: int, message: str
) -> None:
    api.force_authenticate(UserFactory())
    before = _counts()
    response = api.generic("POST", "/api/v1/communities/", body, content_type=content_type)
    assert response.status_code == status
    assert message in str(response.json())
    assert _counts() == before


def test_deeply_nested_json_is_400(api: APIClient) -> None:
    api.raise_request_exception = False
    api.force_authenticate(UserFactory())
    body = '{"a":' * 5_000 + "1" + "}" * 5_000
    response = api.generic("POST", "/api/v1/communities/", body, content_type="application/json")
    assert response.status_code == 400


# --- Communities: change ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entrance_fee": "200.00"}, "entrance_fee"),
        ({"entrance_fee": 200.0}, "entrance_fee"),
        ({"monthly_fee": -1}, "monthly_fee"),
        ({"winners_per_week": 2}, "prize_split"),  # the split still has three weights
        ({"prize_split": []}, "prize_split"),
        ({"phase": "purple"}, "phase"),
        ({"time_zone": "Nowhere/City"}, "time_zone"),
        ({"currency": "BTC"}, "currency"),
        ({"slug": "renamed"}, "slug"),  # the address is fixed once created
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"name": "New", "entrance_fee": -5}, "entrance_fee"),  # one bad field: nothing saved
    ],
)
def test_community_patch_refuses_bad_input_and_changes_nothing(
    api: APIClient, community: Community, organiser: Membership, body: dict[str, Any], field: str
) -> None:
    # given
    api.force_authenticate(organiser.user)
    before = _community_row(community)
    audit = CommunityAuditLog.objects.count()
    # when
    response = api.patch("/api/v1/communities/circle/", body)
    # then
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _community_row(community) == before
    assert CommunityAuditLog.objects.count() == audit


def test_phase_cannot_go_back_to_seed(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    # given a community that has grown
    api.force_authenticate(organiser.user)
    assert api.patch("/api/v1/communities/circle/", {"phase": "growth"}).status_code == 200
    before = _community_row(community)
    audit = CommunityAuditLog.objects.count()
    # when
    response = api.patch("/api/v1/communities/circle/", {"phase": "seed", "name": "Renamed"})
    # then
    assert response.status_code == 400
    assert response.json() == {
        "phase": ["A community in the growth phase cannot go back to the seed phase."]
    }
    assert _community_row(community) == before
    assert before["phase"] == "growth"
    assert CommunityAuditLog.objects.count() == audit


# --- Profiles, members, tags -------------------------------------------------------------------


def test_profile_patch_with_an_unknown_tag_names_skills_and_saves_nothing(
    api: APIClient, community: Community, member: Membership
) -> None:
    # given
    api.force_authenticate(member.user)
    api.patch("/api/v1/communities/circle/members/me/", {"city": "上海", "skills": ["Planning"]})
    before = _profile_row(member)
    # when
    response = api.patch(
        "/api/v1/communities/circle/members/me/",
        {"city": "北京", "skills": ["Copywriting", "Nope"]},
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"skills": ["Unknown tag: Nope. Add it to the vocabulary first."]}
    assert _profile_row(member) == before
    assert not Tag.objects.filter(name="Nope").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"handle": ""}, "handle"),
        ({"handle": "x" * 41}, "handle"),
        ({"handle": "MOD"}, "handle"),  # the moderator's, in another case
        ({"handle": None}, "handle"),
        ({"city": "a\x00b"}, "city"),
        ({"skills": "Planning"}, "skills"),
        ({"skills": [["Planning"]]}, "skills"),
        ({"skills": ["Planning"] * 21}, "skills"),
        ({"needs": ["Planning"]}, "needs"),  # a skill, not a need
        ({"email": "me@example.com"}, "email"),
        ({"role": "organiser"}, "role"),  # one's own role is not a profile field
    ],
)
def test_profile_patch_refuses_bad_input_and_saves_nothing(
    api: APIClient,
    community: Community,
    moderator: Membership,
    member: Membership,
    body: dict[str, Any],
    field: str,
) -> None:
    api.force_authenticate(member.user)
    before = _profile_row(member)
    response = api.patch("/api/v1/communities/circle/members/me/", body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _profile_row(member) == before
    member.refresh_from_db()
    assert member.role == Membership.Role.MEMBER


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a\x00b@example.com"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),  # longer than the column
        ({"email": ["a@example.com"]}, "email"),
        ({"email": "ok@example.com", "role": "candidate"}, "role"),
        ({"email": "ok@example.com", "role": "owner"}, "role"),
        ({"email": "ok@example.com", "username": "spa ce"}, "username"),
        ({"email": "ok@example.com", "username": "u" * 151}, "username"),
        ({"email": "ok@example.com", "handle": "h"}, "handle"),
    ],
)
def test_member_add_refuses_bad_input_and_saves_nothing(
    api: APIClient, community: Community, organiser: Membership, body: dict[str, Any], field: str
) -> None:
    api.force_authenticate(organiser.user)
    before = _counts()
    response = api.post("/api/v1/communities/circle/members/", body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "mood", "name": "Happy"}, "kind"),
        ({"kind": "skill", "name": "a,b"}, "name"),
        ({"kind": "skill", "name": "a；b"}, "name"),
        ({"kind": "skill", "name": ""}, "name"),
        ({"kind": "skill", "name": "x" * 41}, "name"),
        ({"kind": "skill", "name": "planning"}, "name"),  # already there, as "Planning"
        ({"kind": "skill", "name": "New", "created_by": 1}, "created_by"),
        ({"kind": "skill", "name": "New", "id": 1}, "id"),
    ],
)
def test_tag_create_refuses_bad_input_and_saves_nothing(
    api: APIClient, community: Community, member: Membership, body: dict[str, Any], field: str
) -> None:
    api.force_authenticate(member.user)
    before = _counts()
    response = api.post("/api/v1/communities/circle/tags/", body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert _counts() == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"skill": "Nope"}, "skill"),
        ({"need": "Planning"}, "need"),
        ({"role": "candidate"}, "role"),
        ({"status": "sleeping"}, "status"),
        ({"industry": "a\x00b"}, "industry"),
        ({"city": "\x00"}, "city"),
        ({"skill": ["Planning", "\x00"]}, "skill"),
    ],
)
def test_directory_refuses_bad_filters_naming_the_parameter(
    api: APIClient, community: Community, organiser: Membership, query: dict, field: str
) -> None:
    api.force_authenticate(organiser.user)
    response = api.get("/api/v1/communities/circle/members/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    ("query", "status"),
    [({"page": "-1"}, 404), ({"page": "abc"}, 404), ({"page": "99"}, 404), ({"page": "1"}, 200)],
)
def test_directory_pages_out_of_range_are_404(
    api: APIClient, community: Community, organiser: Membership, query: dict, status: int
) -> None:
    api.force_authenticate(organiser.user)
    assert api.get("/api/v1/communities/circle/members/", query).status_code == status


@pytest.mark.parametrize("query", [{}, {"tags": ""}, {"tags": ","}, {"tags": "a\x00"}])
def test_matcher_refuses_missing_or_bad_tags(
    api: APIClient, community: Community, moderator: Membership, query: dict
) -> None:
    api.force_authenticate(moderator.user)
    response = api.get("/api/v1/communities/circle/matcher/", query)
    assert response.status_code == 400
    assert list(response.json()) == ["tags"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "No file was submitted."),
        ({"file": "not a file"}, "The submitted data was not a file."),
        ({"file": b""}, "The submitted file is empty."),
        ({"file": b"name,phone\nAnn,1\n"}, "Unknown: name, phone."),
        ({"file": b"\n\n"}, "“email” is required"),
        ({"file": b"email\n" + b"x" * 2_000_001}, "The file is larger than 2000000 bytes."),
    ],
)
def test_member_import_refuses_an_unreadable_file_and_imports_nothing(
    api: APIClient, community: Community, organiser: Membership, data: dict, message: str
) -> None:
    api.force_authenticate(organiser.user)
    if isinstance(data.get("file"), bytes):
        data = {"file": SimpleUploadedFile("m.csv", data["file"])}
    before = _counts()
    response = api.post("/api/v1/communities/circle/members/import/", data, format="multipart")
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert message in response.json()["file"][0]
    assert _counts() == before


def test_member_import_rejects_a_row_with_a_null_character(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.raise_request_exception = False
    api.force_authenticate(organiser.user)
    upload = SimpleUploadedFile("m.csv", b"email,city\nnul@example.com,a\x00b\n")
    response = api.post(
        "/api/v1/communities/circle/members/import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 200
    assert response.json()["rows"][0]["outcome"] == "rejected"
    assert list(response.json()["rows"][0]["errors"]) == ["city"]


def test_member_import_rejects_a_row_with_a_too_long_email(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.raise_request_exception = False
    api.force_authenticate(organiser.user)
    upload = SimpleUploadedFile("m.csv", ("email\n" + "x" * 250 + "@example.com\n").encode())
    response = api.post(
        "/api/v1/communities/circle/members/import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 200
    assert response.json()["rows"][0]["errors"] == {"email": ["At most 254 characters."]}


# --- The portal's forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"entrance_fee": "-1"}, "entrance_fee"),
        ({"entrance_fee": "200.001"}, "entrance_fee"),
        ({"monthly_fee": "ten"}, "monthly_fee"),
        ({"monthly_fee": "NaN"}, "monthly_fee"),
        ({"entrance_fee": "99999999999"}, "entrance_fee"),
        ({"currency": "XXX"}, "currency"),
    ],
)
def test_portal_community_create_shows_the_error_on_the_field_and_saves_nothing(
    client: Client, db: None, change: dict[str, str], field: str
) -> None:
    client.force_login(UserFactory())
    before = _counts()
    data = {
        "name": "Fine",
        "slug": "fine-slug",
        "currency": "CNY",
        "entrance_fee": "200.00",
        "monthly_fee": "10.00",
        **change,
    }
    response = client.post("/communities/new/", data)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert _counts() == before


@pytest.mark.parametrize("path", ["/communities/new/", "/c/circle/settings/"])
def test_portal_fee_with_a_huge_exponent_is_a_form_error(
    client: Client, organiser: Membership, path: str
) -> None:
    client.raise_request_exception = False
    client.force_login(organiser.user)
    data = {"name": "Fine", "slug": "fine-slug", "currency": "CNY", "monthly_fee": "10.00"}
    response = client.post(path, {**data, "entrance_fee": "1e999999999"})
    assert response.status_code == 200


def test_portal_member_add_with_a_too_long_email_is_a_form_error(
    client: Client, organiser: Membership
) -> None:
    client.raise_request_exception = False
    client.force_login(organiser.user)
    response = client.post(
        "/c/circle/members/add/", {"email": "x" * 250 + "@example.com", "role": "member"}
    )
    assert response.status_code == 200


def test_portal_settings_with_a_bad_fee_change_nothing(
    client: Client, community: Community, organiser: Membership
) -> None:
    client.force_login(organiser.user)
    before = _community_row(community)
    response = client.post(
        "/c/circle/settings/",
        {
            "name": "Renamed",
            "currency": "CNY",
            "entrance_fee": "-200",
            "monthly_fee": "10.00",
            "time_zone": "Asia/Shanghai",
            "week_start": "0",
            "privacy_threshold": "100",
            "votes_per_member": "3",
            "voting_opens_weekday": "4",
            "voting_opens_time": "00:00",
            "winners_per_week": "3",
            "prize_split": "50, 30, 20",
            "brief_lead_days": "3",
            "grace_days": "7",
            "tip_fee_percent": "0",
            "payout_hold_hours": "48",
            "moderator_target_answerers": "10",
            "moderator_target_quality": "4.0",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"entrance_fee": ["A fee cannot be negative."]}
    assert _community_row(community) == before


# --- Unknown community: 404 on every endpoint ---------------------------------------------------


def _walk(patterns: list, namespace: str | None = None) -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            yield from _walk(entry.url_patterns, entry.namespace or namespace)
        elif entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry


PATTERNS: dict[str, URLPattern] = dict(_walk(get_resolver().url_patterns))
SLUG_PATTERNS = sorted(n for n, p in PATTERNS.items() if "slug" in p.pattern.regex.groupindex)
POST_ONLY = {
    "members:tag_create",
    "members:my_profile_handle",
    "members:enter_growth",
    "questions:announce",
    "questions:schedule",
    "questions:challenge",
    "questions:comment_create",
    "questions:comment_edit",
    "questions:comment_remove",
    "questions:rate",
    "rewards:subscription_cancel",
    "rewards:subscription_payment_method",
    "questions:vote",
    "rewards:connect",
    "rotation:sign_up",
    "rotation:withdraw",
    "rotation:swap_request",
    "rotation:swap_answer",
    "rotation:remove",
    "rotation:pay_adjust",
    "digests:test_send",
    "digests:publish",
    "digests:feed_secret",
    "questions:answer_image",
    "members:invite_revoke",
}


def _module(name: str) -> str:
    callback = PATTERNS[name].callback
    return getattr(callback, "view_class", callback).__module__


QUESTION_NAMES = {n for n in PATTERNS if _module(n).startswith("questions.")}
# The asker's own brief (submitted, not scheduled) is what these addresses act on.
ON_THE_BRIEF = {"questions:brief_edit", "questions:schedule", "api-schedule", "api-question"}


@dataclass
class QuestionRows:
    """Real rows of the "circle" community for addresses that name them."""

    target: Membership  # another member: the asker of the question, someone to invite
    question: Question  # published in this week's session, with an attachment
    brief: Question  # the member's own, submitted long ago, not scheduled yet
    answer: Answer  # the member's answer to the question
    comment: Comment  # the member's comment on that answer
    attachment: Attachment  # the question's
    week: str  # this week, 2026-W48
    next_week: str
    payment: Payment  # an offline entrance fee of the member's
    checkout: CheckoutSession  # the member's tip on the question's answer, not paid yet
    prize: Prize  # the member's answer won a closed week (made directly: no close ran)
    batch: PayoutBatch  # an organiser's (empty) batch of payouts
    digest: Digest  # the draft digest of last week (closed), with the member's answer

    def kwargs(self, name: str) -> dict[str, Any]:
        question = self.brief if name in ON_THE_BRIEF else self.question
        return {
            "question_id": question.pk,
            "answer_id": self.answer.pk,
            "comment_id": self.comment.pk,
            "attachment_id": self.attachment.pk,
            "week": self.week,
            "payment_id": self.payment.pk,
            "checkout_id": self.checkout.pk,
            "prize_id": self.prize.pk,
            "batch_id": self.batch.pk,
            "digest_id": self.digest.pk,
            "label": self.digest.label
            if name.startswith(("digests:", "api-digest"))
            else self.week,
        }


def _question_rows(community: Community, member: Membership) -> QuestionRows:
    target = add_member(community, profile={"handle": "target", "skills": ["Planning"]})
    attachment = attach(target, "brief.pdf", PDF)
    question = published(target, title="Fuzz question", needs=["Planning"], attachment=attachment)
    answer = question_services.answer_create(author=member, question=question, body="*mine*")
    comment = question_services.comment_create(author=member, answer=answer, body="a comment")
    start = weeks.start_of(community)
    close = WeekClose.objects.create(
        community=community,
        week=start - datetime.timedelta(days=7),
        winners_per_week=3,
        prize_split=[50, 30, 20],
        frozen_at=timezone.now(),
        closed_at=timezone.now(),
        reward_rollover_out=0,
        operations_rollover_out=0,
    )
    return QuestionRows(
        target=target,
        question=question,
        brief=brief(member, title="The member's brief"),
        answer=answer,
        comment=comment,
        attachment=attachment,
        week=weeks.label(start),
        next_week=weeks.label(start + datetime.timedelta(days=7)),
        payment=money_services.payment_record(
            community=community,
            membership=member,
            kind=Payment.Kind.ENTRANCE,
            amount=20000,
            received_at=timezone.now() - datetime.timedelta(days=3),
            method=Payment.Method.BANK_TRANSFER,
        ),
        checkout=CheckoutSession.objects.create(
            community=community,
            membership=member,
            kind=CheckoutSession.Kind.TIP,
            currency=community.currency,
            tip_amount=500,
            answer=answer,
        ),
        prize=Prize.objects.create(
            week_close=close, place=1, answer=answer, membership=member, votes=1, amount=0
        ),
        batch=PayoutBatch.objects.create(
            community=community, method="cash", created_by=organiser_of(community).user
        ),
        digest=_draft_digest(community, close.week, answer),
    )


@pytest.fixture
def question_rows(
    community: Community, member: Membership, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> QuestionRows:
    use_private_storage(monkeypatch, tmp_path)
    return _question_rows(community, member)


@dataclass
class FuzzWorld:
    """What every fuzzed address needs, built once for the module (tests/worlds.py): the
    community "circle", its organiser, a member, and the rows the addresses name."""

    community: Community
    organiser: Membership
    member: Membership
    rows: QuestionRows


@pytest.fixture(scope="module")
def _fuzz_world(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzWorld]:
    with pytest.MonkeyPatch.context() as patch, shared_world(django_db_blocker):
        use_private_storage(patch, tmp_path_factory.mktemp("fuzz-attachments"))
        community = make_community(slug="circle", name="Circle")
        member = add_member(community, profile={"handle": "plain"})
        yield settled(
            FuzzWorld(
                community=community,
                organiser=organiser_of(community),
                member=member,
                rows=_question_rows(community, member),
            )
        )


@pytest.fixture
def fuzz_world(_fuzz_world: FuzzWorld, db: None) -> FuzzWorld:
    return fresh(_fuzz_world)


def _draft_digest(community: Community, week: datetime.date, answer: Answer) -> Digest:
    digest = Digest.objects.create(community=community, week=week, content={"winners": []})
    DigestItem.objects.create(digest=digest, answer=answer, position=1, excerpt="mine")
    return digest


MONEY_NAMES = {
    "api-payments",
    "api-payment-reverse",
    "api-week",
    "api-ledger",
    "api-ledger-balances",
    "api-ledger-export",
    "api-join-checkout",
    "api-tip-checkout",
    "api-checkout",
    "api-subscription-cancel",
    "api-subscription-payment-method",
    "stripe_webhook",
    "rewards:fund",
    "rewards:ledger",
    "rewards:statements",
    "rewards:ledger_export",
    "rewards:payments",
    "rewards:payment_new",
    "rewards:payment_reverse",
    "rewards:join",
    "rewards:tip",
    "rewards:checkout_done",
    "rewards:checkout_cancelled",
    "rewards:subscription_cancel",
    "rewards:subscription_payment_method",
    # the weekly cycle
    "api-weeks",
    "api-fair-play",
    "api-leaderboard",
    "api-prize-void",
    "api-payouts",
    "api-earnings",
    "rewards:archive",
    "rewards:results",
    "rewards:leaderboard",
    "rewards:fair_play",
    "rewards:prize_void",
    "rewards:payouts",
    "rewards:payout_batch_export",
    "rewards:earnings",
    "rewards:connect",
}


# Addresses that open a Stripe Checkout session: they run against the fake Stripe.
CALLS_STRIPE = {"api-join-checkout", "api-tip-checkout", "rewards:join", "rewards:tip"}


def _kwargs_needing_rows(name: str) -> bool:
    return bool(
        set(PATTERNS[name].pattern.regex.groupindex)
        & {
            "question_id",
            "answer_id",
            "comment_id",
            "attachment_id",
            "label",
            "week",
            "payment_id",
            "checkout_id",
            "prize_id",
            "batch_id",
            "digest_id",
        }
    )


def test_the_walk_finds_every_portal_and_api_url() -> None:
    assert {
        "home",
        "healthz",
        "api-token",
        "api-communities",
        "api-community",
        "api-members",
        "api-member",
        "api-member-me",
        "api-members-import",
        "api-members-export",
        "api-tags",
        "api-matcher",
        "api-schema",
        "api-docs",
        "members:community_create",
        "members:landing",
        "members:directory",
        "members:member_add",
        "members:member_import",
        "members:member_export",
        "members:profile",
        "members:my_profile",
        "members:tag_create",
        "members:matcher",
        "members:settings",
        "members:enter_growth",
        "account_login",
        *QUESTION_NAMES,
        *MONEY_NAMES,
    } <= set(PATTERNS)
    assert len(SLUG_PATTERNS) == 117
    assert set(QUESTION_NAMES) == {
        "questions:week",
        "questions:week_of",
        "questions:announce",
        "questions:list",
        "questions:brief_create",
        "questions:mine",
        "questions:briefs",
        "questions:detail",
        "questions:brief_edit",
        "questions:schedule",
        "questions:challenge",
        "questions:invite",
        "questions:answer",
        "questions:revisions",
        "questions:answer_link",
        "questions:discussion",
        "questions:comment_create",
        "questions:rate",
        "questions:comment_edit",
        "questions:comment_remove",
        "questions:notifications",
        "questions:notification_open",
        "questions:notification_settings",
        "api-notification-preferences",
        "questions:answer_image",
        "questions:attachment",
        "questions:preview",
        "questions:ballot",
        "questions:ballot_of",
        "questions:vote",
        "api-vote",
        "api-ballot",
        "api-questions",
        "api-session",
        "api-attachments",
        "api-question",
        "api-schedule",
        "api-challenge",
        "api-invitations",
        "api-answers",
        "api-answer",
        "api-revisions",
        "api-comments",
        "api-rating",
        "api-comment",
        "api-comment-remove",
        "api-notifications",
        "api-notifications-read",
        "api-preview",
        "digests:archive",
        "digests:settings",
        "digests:feed_secret",
        "digests:feed",
        "digests:detail",
        "digests:curate",
        "digests:email_preview",
        "digests:test_send",
        "digests:publish",
        "digests:unsubscribe",
        "api-digests",
        "api-digest",
        "api-digest-publish",
    }


def _expected_for_unknown_community(name: str, method: str) -> int:
    view_class = getattr(PATTERNS[name].callback, "view_class", None)
    if view_class is not None and not hasattr(view_class, method):
        return 405
    if method == "get" and name in POST_ONLY:
        return 405
    return 404


def _question_counts() -> tuple[Any, ...]:
    return (
        list(Question.objects.order_by("pk").values_list("pk", "state", "is_challenge", "title")),
        list(Answer.objects.order_by("pk").values_list("pk", "body", "revision")),
        list(Comment.objects.order_by("pk").values_list("pk", "body", "removed_at")),
        Attachment.objects.count(),
    )


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", SLUG_PATTERNS)
def test_an_unknown_community_is_404_on_every_endpoint(
    client: Client,
    request: pytest.FixtureRequest,
    community: Community,
    organiser: Membership,
    name: str,
    method: str,
) -> None:
    # given an organiser (of another community) and an address no community has, naming real
    # questions, answers and comments of the organiser's community
    client.force_login(organiser.user)
    kwargs: dict[str, Any] = {"slug": "no-such-community"}
    if "membership_id" in PATTERNS[name].pattern.regex.groupindex:
        kwargs["membership_id"] = organiser.pk
    for key, value in {
        "member_id": organiser.pk,
        "swap_id": 1,
        "answer": "accept",
        "secret": "no-such-secret",
        "invite_id": 1,
        "token": "no-such-token",
    }.items():
        if key in PATTERNS[name].pattern.regex.groupindex:
            kwargs[key] = value
    if _kwargs_needing_rows(name):
        rows: QuestionRows = request.getfixturevalue("question_rows")
        params = PATTERNS[name].pattern.regex.groupindex
        kwargs.update({k: v for k, v in rows.kwargs(name).items() if k in params})
    before = _counts(), _question_counts()
    # when
    response = getattr(client, method)(
        reverse(name, kwargs=kwargs),
        {"name": "x", "body": "x", "reason": "x", "stars": "5", "is_challenge": "1"},
    )
    # then
    assert response.status_code == _expected_for_unknown_community(name, method)
    assert (_counts(), _question_counts()) == before


@pytest.mark.parametrize(
    "path",
    [
        "/c/circle/week/9999-W52/",
        "/api/v1/communities/circle/sessions/9999-W52/",
    ],
)
def test_a_week_at_the_end_of_the_calendar_is_no_server_error(
    client: Client, community: Community, organiser: Membership, path: str
) -> None:
    client.raise_request_exception = False
    client.force_login(organiser.user)
    assert client.get(path).status_code < 500


# --- Fuzz: no request produces a 500 -----------------------------------------------------------

NASTY = [
    "",
    "x" * 5_000,
    "数据库 🙂 \u202e\ufeff <script>",
    "' OR '1'='1'; DROP TABLE members_community; --",
    "a\x00b",
    "-1",
    "-99999999999999999999",
    "abc",
]
NASTY_JSON: list[Any] = [*NASTY, None, -1, 10**30, 1.5, True, ["a", "b"], {"a": 1}]
QUERY_KEYS = [
    "page",
    "page_size",
    "q",
    "skill",
    "need",
    "hobby",
    "industry",
    "city",
    "role",
    "status",
    "tags",
    "format",
    "next",
    "lang",
    "week",
    "tag",
    "state",
]
# one parameter at a time, so that an early refusal of one does not hide a crash on another
DEEP_QUERY = ["x" * 2_000, "数据库 🙂 \u202e' OR '1'='1'; --", "\x00", "-1"]
QUERY_RAW = [
    "page=-1&page_size=-5",
    "page=abc&page_size=abc",
    "page=99999999999999999999",
    "q=%ff%fe%00&skill&&&==",
    "format=api",
    "format=json",
]
BAD_BODIES: list[tuple[str | bytes, str]] = [
    ("{not json", "application/json"),
    ('"\\u0000"', "application/json"),
    ("[1, 2, 3]", "application/json"),
    ("null", "application/json"),
    ('{"entrance_fee": NaN}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    ("just text", "text/plain"),
    ("&".join(f"f{i}=x" for i in range(2_000)), "application/x-www-form-urlencoded"),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\nx", "multipart/form-data; boundary=b"),
]
UPLOADS = [
    ("members.csv", b"email,handle,real_name,skills\nfuzz-csv@example.com,fz,Fuzz,Planning\n"),
    ("../../etc/passwd\x00.csv", b"\x00\xff\xfe garbage \x00"),
    ("empty.csv", b""),
    ("members.xlsx", b"PK\x03\x04" + b"\x00" * 100),
    ("gbk.csv", "email,city\n甲@example.com,上海\n".encode("gb18030")),
]
# Attachments for briefs and answers: good ones and disguised ones.
ATTACHMENT_UPLOADS = [
    ("brief.pdf", PDF),
    ("brief.docx", docx_bytes()),
    ("notes.md", "# 笔记\n".encode()),
    ("fake.pdf", HTML),
    ("fake.docx", b"PK\x03\x04" + b"\x00" * 100),
    ("setup.exe", EXE),
    ("../../etc/passwd\x00.txt", b"\x00\xff\xfe garbage"),
]
ATTACHMENT_FORMS = {"questions:brief_create", "questions:brief_edit", "questions:answer"}
_BRIEF_FORM = {
    "title": "Fuzz",
    "background": "B",
    "wanted": "W",
    "needs": "Planning",
    "preferred_week": "",
    "submit": "1",
}
# Good input for the questions' endpoints, which depends on the rows made for the test.
QUESTIONS_GOOD: dict[str, Callable[[QuestionRows], dict[str, Any]]] = {
    # money (rewards): bodies that pass, so the nasty variants reach the services
    "api-payments": lambda r: {
        "member": r.target.pk,
        "kind": "monthly",
        "amount": 1000,
        "received_at": "2026-11-20T10:00:00+08:00",
    },
    "rewards:payment_new": lambda r: {
        "member": str(r.target.pk),
        "kind": "monthly",
        "amount": "10.00",
        "received_at": "2026-11-20 10:00",
        "method": "bank_transfer",
    },
    "api-payment-reverse": lambda r: {"amount": 100, "note": "fuzz"},
    "rewards:payment_reverse": lambda r: {"amount": "1.00", "note": "fuzz"},
    "api-tip-checkout": lambda r: {"amount": 500},
    "api-payouts": lambda r: {"member": r.target.pk, "amount": 100, "method": "cash"},
    "rewards:payouts": lambda r: {"method": "cash", "reference": "x"},
    "api-prize-void": lambda r: {"reason": "a ring"},
    "rewards:prize_void": lambda r: {"reason": "a ring"},
    "questions:vote": lambda r: {"action": "vote"},
    "rewards:tip": lambda r: {"amount": "5.00"},
    "questions:brief_create": lambda r: _BRIEF_FORM,
    "questions:brief_edit": lambda r: _BRIEF_FORM,
    "questions:schedule": lambda r: {"week": r.next_week},
    "questions:challenge": lambda r: {"is_challenge": "1"},
    "questions:invite": lambda r: {"members": str(r.target.pk)},
    "questions:announce": lambda r: {"announcement": "Welcome"},
    "questions:answer": lambda r: {"body": "An **answer**"},
    "questions:comment_create": lambda r: {"body": "A reply", "parent": str(r.comment.pk)},
    "questions:comment_edit": lambda r: {"body": "Edited"},
    "questions:comment_remove": lambda r: {"reason": "Off topic"},
    "questions:rate": lambda r: {"stars": "4"},
    "questions:preview": lambda r: {"body": "**x**"},
    "questions:list": lambda r: {"q": "x", "week": r.week, "tag": "Planning", "state": "open"},
    "api-questions": lambda r: {
        "title": "Fuzz",
        "background": "B",
        "wanted": "W",
        "needs": ["Planning"],
        "preferred_week": r.next_week,
        "draft": False,
    },
    "api-question": lambda r: {"title": "Fuzzed", "needs": ["Planning"], "submit": True},
    "api-schedule": lambda r: {"week": r.next_week},
    "api-challenge": lambda r: {"is_challenge": True},
    "api-invitations": lambda r: {"members": [r.target.pk]},
    "api-answers": lambda r: {"body": "An answer", "attachment": None},
    "api-answer": lambda r: {"body": "Revised", "attachment": None},
    "api-comments": lambda r: {"body": "A reply", "parent": r.comment.pk},
    "api-comment": lambda r: {"body": "Edited"},
    "api-comment-remove": lambda r: {"reason": "Off topic"},
    "api-rating": lambda r: {"stars": 4},
    "api-preview": lambda r: {"body": "**x**"},
}
# Good input per endpoint; the fuzz spoils one field at a time so the bad value gets past
# the other fields' checks and reaches the service.
PORTAL_GOOD: dict[str, dict[str, Any]] = {
    "members:community_create": {
        "name": "Fuzz",
        "slug": "fuzz",
        "description": "d",
        "currency": "CNY",
        "entrance_fee": "200.00",
        "monthly_fee": "10.00",
    },
    "members:settings": {
        "name": "Circle",
        "description": "",
        "currency": "CNY",
        "entrance_fee": "200.00",
        "monthly_fee": "10.00",
        "time_zone": "Asia/Shanghai",
        "week_start": "0",
        "privacy_threshold": "100",
        "votes_per_member": "3",
        "voting_opens_weekday": "4",
        "voting_opens_time": "00:00",
        "winners_per_week": "3",
        "prize_split": "50, 30, 20",
        "brief_lead_days": "3",
        "grace_days": "7",
        "tip_fee_percent": "0",
        "payout_hold_hours": "48",
        "moderator_target_answerers": "10",
        "moderator_target_quality": "4.0",
    },
    "members:my_profile": {
        "handle": "fuzzy",
        "real_name": "R",
        "company": "C",
        "role_title": "T",
        "industry": "I",
        "career_path": "P",
        "city": "上海",
        "skills": "Planning",
        "needs": "Guidance",
    },
    "members:tag_create": {"kind": "skill", "name": "Fuzzing"},
    "members:member_add": {"email": "fuzz-add@example.com", "username": "fz", "role": "member"},
    "members:profile": {"role": "member", "status": "active"},
    "members:matcher": {"tags": "Planning"},
    "members:directory": {"q": "x", "skill": "Planning"},
    "account_login": {"login": "nobody@example.com", "password": "wrong-password"},
    "account_signup": {
        "email": "fuzz-signup@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    },
    "account_reset_password": {"email": "nobody@example.com"},
    "set_language": {"language": "zh-hans", "next": "/"},
}
API_GOOD: dict[str, dict[str, Any]] = {
    "api-token": {"username": "nobody", "password": "wrong-password"},
    "api-communities": {
        "slug": "fuzz-api",
        "name": "Fuzz",
        "entrance_fee": 20000,
        "monthly_fee": 1000,
        "currency": "CNY",
        "prize_split": [50, 30, 20],
        "voting_opens_time": "00:00",
    },
    "api-community": {
        "name": "Circle",
        "entrance_fee": 20000,
        "prize_split": [50, 30, 20],
        "winners_per_week": 3,
        "phase": "seed",
        "time_zone": "Asia/Shanghai",
    },
    "api-members": {"email": "fuzz-api@example.com", "username": "fzapi", "role": "member"},
    "api-member": {"role": "member", "status": "active"},
    "api-member-me": {
        "handle": "fuzzy",
        "city": "上海",
        "skills": ["Planning"],
        "needs": ["Guidance"],
        "hobbies": [],
    },
    "api-tags": {"kind": "skill", "name": "Fuzzing"},
}


def _summary(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:157] + "..."


def _refused_unread(response: Any) -> bool:
    """Refused before the input is read: not signed in, not allowed, no such thing."""
    if response.status_code in (401, 403, 404, 405):
        return True
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


class Fuzzer:
    """Sends requests, observing a 500 as a status (not an exception) and remembering it."""

    def __init__(self, client: Client, user: User | None, relogin: bool) -> None:
        self.client, self.user, self.relogin = client, user, relogin
        self.failures: list[str] = []
        client.raise_request_exception = False
        if user is not None:
            client.force_login(user)

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        response = None
        for _attempt in range(2):
            if self.user is not None and self.relogin:
                self.client.force_login(self.user)  # a sign-out page may have signed us out
            try:
                response = getattr(self.client, method)(path, **kwargs)
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)  # errors while streaming count too
            except Exception as exc:
                self.failures.append(f"{method.upper()} {path} {_summary(kwargs)} raised {exc!r}")
                return None
            if response.status_code != 429:
                break
            cache.clear()  # a rate limit hid the answer: ask again
        if response.status_code >= 500:
            self.failures.append(
                f"{method.upper()} {path} {_summary(kwargs)} -> {response.status_code}"
            )
        return response

    def json(self, method: str, path: str, value: Any) -> Any:
        return self.send(method, path, data=json.dumps(value), content_type="application/json")


EVERY_KEY = "\x00every key"
_KEYED_READS = ("__getitem__", "get", "getlist", "__contains__", "pop")
_WHOLE_READS = ("items", "lists", "keys", "values", "__iter__", "__len__", "dict", "copy")
_WHOLE_READS += ("urlencode", "__copy__", "__deepcopy__")


@contextlib.contextmanager
def query_reads() -> Iterator[set[str]]:
    """The query parameters the code under test reads (``request.GET`` is a QueryDict), so
    the deep fuzz of one parameter at a time is spent on those only: a parameter no code
    reads cannot fail. Reading the dict as a whole (iterating, copying, its length) counts as
    reading every key. Reads of any QueryDict count (a form's POST too): it can only add."""
    read: set[str] = set()
    building: list[bool] = []  # a QueryDict reads itself while it is parsed: not a read

    def keyed(original: Callable[..., Any]) -> Callable[..., Any]:
        def reading(self: QueryDict, key: Any, *args: Any, **kwargs: Any) -> Any:
            if not building:
                read.add(key)
            return original(self, key, *args, **kwargs)

        return reading

    def whole(original: Callable[..., Any]) -> Callable[..., Any]:
        def reading(self: QueryDict, *args: Any, **kwargs: Any) -> Any:
            if not building and dict.__len__(self):  # an empty one (a GET's POST) holds no key
                read.add(EVERY_KEY)
            return original(self, *args, **kwargs)

        return reading

    def parse(original: Callable[..., Any]) -> Callable[..., Any]:
        def parsing(self: QueryDict, *args: Any, **kwargs: Any) -> Any:
            building.append(True)
            try:
                return original(self, *args, **kwargs)
            finally:
                building.pop()

        return parsing

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QueryDict, "__init__", parse(QueryDict.__init__))
        for name in _KEYED_READS:
            patch.setattr(QueryDict, name, keyed(getattr(QueryDict, name)))
        for name in _WHOLE_READS:
            patch.setattr(QueryDict, name, whole(getattr(QueryDict, name)))
        yield read


class _ReadDict(dict):  # type: ignore[type-arg]
    """A parsed JSON object that records whose values the code reads (key names alone —
    iterating, ``in``, ``len`` — read no value). Overriding ``__iter__`` keeps CPython from
    copying it behind our back (``{**d}``, ``dict(d)`` then read through ``__getitem__``)."""

    read: set[str]

    def __getitem__(self, key: Any) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        self.read.add(key)
        return super().pop(key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.read.add(key)
        return super().setdefault(key, default)

    def __iter__(self) -> Iterator[Any]:
        return super().__iter__()

    def _whole(self) -> None:
        self.read.add(EVERY_KEY)

    def items(self) -> Any:
        self._whole()
        return super().items()

    def values(self) -> Any:
        self._whole()
        return super().values()

    def copy(self) -> dict[Any, Any]:
        self._whole()
        return dict(super().items())

    def __reduce_ex__(self, protocol: Any) -> Any:
        self._whole()
        return dict, (dict(super().items()),)


@contextlib.contextmanager
def body_reads() -> Iterator[set[str]]:
    """The fields whose values the code under test reads from a request's body: a form's
    (a QueryDict, as ``query_reads``) or a JSON object's (the API's parser hands out a
    ``_ReadDict``). A field no code reads cannot fail, whatever it holds."""
    from community.parsers import SafeJSONParser

    real_parse = SafeJSONParser.parse

    with query_reads() as read, pytest.MonkeyPatch.context() as patch:

        def parse(self: SafeJSONParser, *args: Any, **kwargs: Any) -> Any:
            parsed = real_parse(self, *args, **kwargs)
            if type(parsed) is dict:
                recorded = _ReadDict(parsed)
                recorded.read = read
                return recorded
            return parsed

        patch.setattr(SafeJSONParser, "parse", parse)
        yield read


def test_the_recorder_sees_the_query_parameters_a_page_reads(
    client: Client, community: Community, member: Membership
) -> None:
    client.force_login(member.user)
    with query_reads() as directory:
        assert client.get("/c/circle/members/", {"q": "x", "city": "y"}).status_code == 200
    assert {"q", "city", "page"} <= directory
    assert not {"week", "state", "lang"} & directory
    with query_reads() as landing:
        assert client.get("/c/circle/", {"q": "x", "week": "y"}).status_code == 200
    assert not set(QUERY_KEYS) & landing
    with query_reads() as whole:
        QueryDict("a=1").urlencode()
    assert whole == {EVERY_KEY}


def test_the_recorder_sees_the_body_fields_whose_values_are_read(
    api: APIClient, community: Community, organiser: Membership
) -> None:
    api.force_authenticate(organiser.user)
    url = f"/api/v1/communities/{community.slug}/tags/"
    with body_reads() as read:
        assert api.post(url, {"kind": "skill", "name": "Fuzzing"}, format="json").status_code == 201
    assert {"kind", "name"} <= read
    with body_reads() as unknown:
        response = api.post(url, {"kind": "skill", "name": "Fuzzed", "zzz": 1}, format="json")
    assert response.status_code == 400  # the unknown field is named...
    assert "zzz" in response.json()
    assert "zzz" not in unknown  # ...by its name: its value is never read
    with body_reads() as form:
        api.post(url, {"kind": "skill", "name": "Form"})  # a form body is a QueryDict
    assert {"kind", "name"} <= form
    recorded = _ReadDict({"a": 1, "b": 2})
    recorded.read = set()
    assert {**recorded} == {"a": 1, "b": 2}
    assert recorded.read == {"a", "b"}  # copied through __getitem__, so seen


def test_the_fuzzer_notices_a_server_error(
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    community: Community,
    organiser: Membership,
    member: Membership,
) -> None:
    """The harness itself: with exceptions turned into responses, a 500 must still fail."""

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("members.selectors.active_member_count", broken)
    monkeypatch.setattr("community.dashboard.dashboard", broken)  # an organiser's home
    monkeypatch.setattr("members.privacy.export_row", broken)
    fuzz = Fuzzer(client, organiser.user, relogin=False)
    assert fuzz.send("get", "/c/circle/").status_code == 500
    fuzz.send("get", "/c/circle/members/export.csv")  # fails while streaming, after the 200
    assert fuzz.failures == [
        "GET /c/circle/ {} -> 500",
        "GET /c/circle/members/export.csv {} raised RuntimeError('boom')",
    ]


@pytest.mark.parametrize("role", ["anonymous", "member", "organiser"])
@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_request_produces_a_server_error(
    client: Client,
    request: pytest.FixtureRequest,
    settings: Any,
    fuzz_world: FuzzWorld,
    role: str,
    name: str,
) -> None:
    # given
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    settings.COMMUNITY_ORGANISER_MFA_REQUIRED = False  # so the money pages are reached
    if name in CALLS_STRIPE:
        request.getfixturevalue("fake_stripe")
    organiser, member = fuzz_world.organiser, fuzz_world.member
    rows: QuestionRows | None = None
    if name in QUESTION_NAMES or name in QUESTIONS_GOOD or _kwargs_needing_rows(name):
        rows = fuzz_world.rows
    target = fuzz_world.rows.target
    user = {"anonymous": None, "member": member.user, "organiser": organiser.user}[role]
    fuzz = Fuzzer(client, user, relogin=name.startswith(("account_", "mfa_")))
    params = PATTERNS[name].pattern.regex.groupindex
    good = {
        "slug": "circle",
        "membership_id": target.pk,
        "member_id": target.pk,
        "swap_id": 1,
        "notification_id": 1,
        "invite_id": 1,
        "answer": "accept",
        "key": "abc-def",
        "uidb36": "1",
        "secret": "no-such-secret",
        "token": "1:abc:forged",
        "esp": "postmark",
    }
    if rows is not None:
        good.update(rows.kwargs(name))
    bad = {
        "slug": "x" * 300,
        "membership_id": 10**20,
        "key": "\u202e%00",
        "uidb36": "z" * 20,
        "question_id": 10**20,
        "answer_id": 10**20,
        "comment_id": 10**20,
        "attachment_id": "00000000-0000-4000-8000-000000000000",
        "label": "\u202e%00",
        "week": "2026-W99",
        "payment_id": 10**20,
        "checkout_id": 10**20,
        "prize_id": 10**20,
        "batch_id": 10**20,
        "member_id": 10**20,
        "swap_id": 10**20,
        "notification_id": 10**20,
        "invite_id": 10**20,
        "answer": "\u202e%00",
        "digest_id": 10**20,
        "secret": "\u202e%00",
        "token": "\u202e%00",
        "esp": "\u202e%00",
    }
    url = reverse(name, kwargs={k: good[k] for k in params})
    is_api = url.startswith("/api/v1/")
    ours = is_api or name.startswith(
        ("members:", "questions:", "rewards:", "rotation:", "digests:")
    )

    # when: strange addresses
    try:
        bad_url = reverse(name, kwargs={k: bad[k] for k in params}) if params else None
    except NoReverseMatch:  # the pattern itself refuses such values
        bad_url = None
    if bad_url:
        fuzz.send("get", bad_url)
        fuzz.send("post", bad_url, data={"name": "x"})

    # GET with nasty query strings
    with query_reads() as read:
        first = fuzz.send("get", url)
        fuzz.send("get", url, HTTP_ACCEPT="text/html")
        for raw in QUERY_RAW:
            fuzz.send("get", f"{url}?{raw}")
        for value in NASTY:
            fuzz.send("get", url, data=dict.fromkeys(QUERY_KEYS, value))
        fuzz.send("get", url, data=dict.fromkeys(QUERY_KEYS, NASTY))  # lists for single values
    if ours and first is not None and first.status_code == 200:
        # then each parameter the page reads on its own (a parameter no code reads cannot
        # fail; the nasty values of every parameter at once went to every page above)
        for key in QUERY_KEYS if EVERY_KEY in read else [k for k in QUERY_KEYS if k in read]:
            for value in DEEP_QUERY:
                fuzz.send("get", url, data={key: value})

    # POST (and PATCH and PUT on the API) with nasty bodies
    good_fields = (API_GOOD if is_api else PORTAL_GOOD).get(name, {})
    if rows is not None and name in QUESTIONS_GOOD:
        good_fields = QUESTIONS_GOOD[name](rows)
    for method in ["post", "patch", "put"] if is_api else ["post"]:
        with body_reads() as read:
            if is_api:
                first = fuzz.json(method, url, good_fields)
            else:
                first = fuzz.send(method, url, data=good_fields)
            if first is None or _refused_unread(first):
                continue
            fuzz.send(method, url)
            for body, content_type in BAD_BODIES:
                fuzz.send(method, url, data=body, content_type=content_type)
            uploads = UPLOADS
            if "import" in name:
                uploads = [*UPLOADS, ("big.csv", b"email\n" + b"x" * 2_100_000)]
            if name == "api-attachments":
                uploads = [*UPLOADS, *ATTACHMENT_UPLOADS]
            for filename, content in uploads:
                upload = SimpleUploadedFile(filename, content)
                fuzz.send(method, url, data={"file": upload, "create_tags": "true"})
            if name in ATTACHMENT_FORMS:
                for filename, content in ATTACHMENT_UPLOADS:
                    upload = SimpleUploadedFile(filename, content)
                    fuzz.send(method, url, data={**good_fields, "attachment": upload})
            fields = list(good_fields) or ["name", "email", "handle"]
            for i, value in enumerate(NASTY_JSON if is_api else NASTY):
                if is_api:
                    fuzz.json(method, url, value)
                    # an unknown field with each nasty value, while some code reads its value
                    if i == 0 or {"unknown", EVERY_KEY} & read:
                        fuzz.json(method, url, {**good_fields, "unknown": value})
                else:
                    fuzz.send(method, url, data=dict.fromkeys(fields, value))
                    fuzz.send(
                        method,
                        url,
                        data=urlencode({f: [value, "x"] for f in fields}, doseq=True),
                        content_type="application/x-www-form-urlencoded",
                    )
                if not ours:
                    continue
                # then one field at a time, each field whose value some code reads (every
                # field above went to every request with each nasty value at once)
                for field in fields:
                    if field not in read and EVERY_KEY not in read:
                        continue
                    spoilt = {**good_fields, field: value}
                    if is_api:
                        fuzz.json(method, url, spoilt)
                    else:
                        fuzz.send(method, url, data=spoilt)

    # then
    assert not fuzz.failures, "\n".join(fuzz.failures)
