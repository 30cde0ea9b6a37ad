"""In the growth phase the rotation's pages, API and e-mails name members by handle only:
no real name or company reaches a plain member (SPEC §2.1)."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from community import weekly
from members.models import Community, Profile
from rotation import notices, services
from rotation.models import Notice
from tests.rewards.weekly_helpers import AFTER_W45, W45, funded_community, questions_with_answers
from tests.rotation.helpers import sign_up

pytestmark = pytest.mark.django_db


def test_in_the_growth_phase_the_rotation_names_moderators_by_handle_only(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=12, slug="private-rota")
    Community.objects.filter(pk=community.pk).update(phase=Community.Phase.GROWTH)
    a, b, c, viewer = people[:4]
    sign_up([a, b, c])
    services.rotation_tick(community=community)  # W45 a, W46 b, W47 c
    services.swap_request(
        requester=b, requester_week="2026-W46", responder_id=c.pk, responder_week="2026-W47"
    )
    questions_with_answers(community, people, questions=1, answers=3)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    services.rotation_tick(community=community)
    hidden = [
        value
        for real_name, company in Profile.objects.filter(community=community)
        .exclude(membership=viewer)
        .values_list("real_name", "company")
        for value in (real_name, company)
        if value
    ]
    assert hidden
    client = Client()
    client.force_login(viewer.user)
    api = APIClient()
    api.force_authenticate(viewer.user)
    slug = community.slug
    pages = [
        client.get(f"/c/{slug}/roster/").content.decode(),
        client.get(f"/c/{slug}/week/2026-W45/results/").content.decode(),
        api.get(f"/api/v1/communities/{slug}/roster/").content.decode(),
        api.get(f"/api/v1/communities/{slug}/shifts/").content.decode(),
        api.get(f"/api/v1/communities/{slug}/weeks/2026-W45/").content.decode(),
    ]
    for notice in Notice.objects.filter(community=community):  # as the e-mail task does
        notices.email(notice.pk)
    emails = [f"{m.subject}\n{m.body}" for m in mail.outbox]
    assert any(b.profile.handle in e for e in emails)  # the swap asked of c names b
    assert all(a.profile.handle in page for page in pages[:3])
    for text in pages + emails:
        for value in hidden:
            assert value not in text
