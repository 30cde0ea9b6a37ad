"""The community audit log is kept by members, but each app names the events it writes there
(members.audit): money events are rewards', the rotation's are rotation's, the digest's are
questions'. members names none of them, and a value is owned by one app only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test import Client
from django.utils import translation

from members import audit
from members.models import CommunityAuditLog
from questions.audit import Event as QuestionEvent
from rewards.audit import Event as MoneyEvent
from rotation.audit import Event as RotationEvent
from tests.factories import make_community, mfa_sign_in, organiser_of


def test_each_app_owns_the_events_it_writes() -> None:
    for enum, app in (
        (audit.Event, "members"),
        (MoneyEvent, "rewards"),
        (RotationEvent, "rotation"),
        (QuestionEvent, "questions"),
    ):
        assert {audit.owner(e.value) for e in enum} == {app}
    money = {e.value for e in MoneyEvent}
    assert {"payment_recorded", "payment_reversed", "payout_recorded", "payout_failed"} <= money
    assert not money & {e.value for e in audit.Event}
    assert len(dict(audit.choices())) == sum(
        len(e) for e in (audit.Event, MoneyEvent, RotationEvent, QuestionEvent)
    )


def test_a_value_named_by_two_apps_is_refused() -> None:
    class Clash(models.TextChoices):
        PAYMENT_RECORDED = "payment_recorded", "Payment recorded"

    with pytest.raises(ImproperlyConfigured, match="payment_recorded"):
        audit.register(Clash, "questions")
    assert audit.owner("payment_recorded") == "rewards"

    class TooLong(models.TextChoices):
        LONG = "x" * (audit.MAX_LENGTH + 1), "Long"

    with pytest.raises(ImproperlyConfigured):
        audit.register(TooLong, "questions")
    assert audit.owner("x" * (audit.MAX_LENGTH + 1)) is None


@pytest.mark.django_db
def test_the_log_says_a_money_event_in_the_readers_language() -> None:
    community = make_community(slug="audited")
    row = CommunityAuditLog.objects.create(community=community, event=MoneyEvent.PAYOUT_FAILED)
    with translation.override("en"):
        assert row.get_event_display() == "Payout failed or reversed"
    with translation.override("zh-hans"):
        assert row.get_event_display() != "Payout failed or reversed"
    unknown = CommunityAuditLog(community=community, event="gone_event")
    assert unknown.get_event_display() == "gone_event"


@pytest.mark.django_db
def test_the_settings_page_and_the_admin_name_each_apps_events(client: Client) -> None:
    community = make_community(slug="audited-pages")
    organiser = organiser_of(community)
    CommunityAuditLog.objects.create(community=community, event=RotationEvent.SHIFTS_SWAPPED)
    mfa_sign_in(client, organiser.user)
    page = client.get(f"/c/{community.slug}/settings/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Moderator shifts swapped" in page.content.decode()

    organiser.user.is_staff = organiser.user.is_superuser = True
    organiser.user.save(update_fields=["is_staff", "is_superuser"])
    listing = client.get(
        "/admin/members/communityauditlog/",
        {"event": "shifts_swapped"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Moderator shifts swapped" in body  # the filter's choice and the row's event
    assert "Payout failed or reversed" in body  # every app's events are in the filter
