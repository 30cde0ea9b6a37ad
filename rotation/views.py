"""Portal pages of the rotation: the roster and schedule (members), the on-duty console
(the week's moderator, organisers), and the organiser's review of shifts, KPIs and pay."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members import access as member_access
from members import weeks
from members.models import Community, Membership
from questions.digests.access import may_curate
from questions.forms import AnnouncementForm, ScheduleForm
from rotation import access, selectors, services
from rotation.forms import PayForm, ReasonForm, SwapForm
from rotation.models import Shift


def _week(community: Community, label: str) -> datetime.date:
    try:
        return weeks.parse(community, label)
    except ValidationError:
        raise Http404(_("Write a week as 2026-W48.")) from None


def _done(request: HttpRequest, call: object, success: str) -> None:
    """Run a service call (a zero-argument callable); its refusal becomes a message."""
    try:
        call()  # type: ignore[operator]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)


def _to_roster(slug: str) -> HttpResponse:
    return redirect(reverse("rotation:roster", kwargs={"slug": slug}))


def _swap_form(found: selectors.Roster, viewer: Membership, data: object = None) -> SwapForm:
    mine = [(r.label, r.label) for r in found.my_weeks]
    others = [
        (f"{r.membership_id}:{r.label}", f"{r.label} · {r.handle}")
        for r in found.schedule
        if not r.fixed and r.membership_id not in (None, viewer.pk)
    ]
    return SwapForm(data or None, mine=mine, others=others)


@login_required
def roster(request: HttpRequest, slug: str) -> HttpResponse:
    """The roster in order, the schedule ahead, my swaps and my shifts."""
    viewer = access.access_roster(user=request.user, slug=slug)
    community = viewer.community
    found = selectors.roster(community=community, viewer=viewer)
    return render(
        request,
        "rotation/roster.html",
        {
            "community": community,
            "viewer": viewer,
            "roster": found,
            "swap_form": _swap_form(found, viewer),
            "can_sign_up": found.mine is None and viewer.is_writer,
            "can_review": viewer.is_organiser,
            "can_open_console": access.may_open_console(viewer, weeks.start_of(community)),
            "currency": community.currency,
        },
    )


@login_required
@require_POST
def sign_up(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_roster(user=request.user, slug=slug)
    _done(
        request,
        lambda: services.roster_join(membership=viewer),
        _("You are on the roster: your shifts are in the schedule."),
    )
    return _to_roster(slug)


@login_required
@require_POST
def withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_roster(user=request.user, slug=slug)
    _done(
        request,
        lambda: services.roster_leave(membership=viewer),
        _("You have left the roster; the shifts after yours moved up."),
    )
    return _to_roster(slug)


@login_required
@require_POST
def swap_request(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_roster(user=request.user, slug=slug)
    found = selectors.roster(community=viewer.community, viewer=viewer)
    form = _swap_form(found, viewer, request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of your shifts and another moderator's shift."))
        return _to_roster(slug)
    member, _sep, theirs = form.cleaned_data["target"].partition(":")
    _done(
        request,
        lambda: services.swap_request(
            requester=viewer,
            requester_week=form.cleaned_data["requester_week"],
            responder_id=member,
            responder_week=theirs,
        ),
        _("Asked; the other moderator is notified."),
    )
    return _to_roster(slug)


@login_required
@require_POST
def swap_answer(request: HttpRequest, slug: str, swap_id: int, answer: str) -> HttpResponse:
    viewer = access.access_roster(user=request.user, slug=slug)
    if answer == "cancel":
        _done(
            request,
            lambda: services.swap_cancel(requester=viewer, swap_id=swap_id),
            _("Your request is withdrawn."),
        )
    elif answer in ("accept", "decline"):
        accept = answer == "accept"
        _done(
            request,
            lambda: services.swap_answer(responder=viewer, swap_id=swap_id, accept=accept),
            _("Swapped: both weeks are pinned.") if accept else _("Declined."),
        )
    else:
        raise Http404(_("No such answer."))
    return _to_roster(slug)


@login_required
def console(request: HttpRequest, slug: str, label: str | None = None) -> HttpResponse:
    """The on-duty console: the week's duties in order."""
    viewer, week = access.access_console(user=request.user, slug=slug, label=label)
    community = viewer.community
    found = selectors.console(community=community, week=week)
    console_url = request.path
    briefs = [
        (
            q,
            ScheduleForm(
                community=community,
                initial={
                    "week": weeks.label(weeks.first_week_for_brief(community, q.submitted_at))
                },
                auto_id=f"brief{q.pk}_%s",
            ),
        )
        for q in found.briefs
    ]
    return render(
        request,
        "rotation/console.html",
        {
            "community": community,
            "viewer": viewer,
            "console": found,
            "briefs": briefs,
            "announce_form": AnnouncementForm(initial={"announcement": found.announcement}),
            "console_url": console_url,
            "digests_waiting": [d for d in found.digests_waiting if may_curate(viewer, d)],
            "previous": weeks.label(week - datetime.timedelta(days=7)),
            "next": weeks.label(week + datetime.timedelta(days=7)),
            "currency": community.currency,
        },
    )


@login_required
def review(request: HttpRequest, slug: str) -> HttpResponse:
    """Organisers: every moderator's shifts with KPIs and pay, a chart of the KPIs over the
    weeks, removal from the roster and the pay review."""
    viewer = member_access.access_money(request=request, slug=slug)  # pay and budgets
    community = viewer.community
    rows = selectors.shift_rows(community=community)
    found = selectors.roster(community=community)
    return render(
        request,
        "rotation/review.html",
        {
            "community": community,
            "viewer": viewer,
            "rows": rows,
            "chart": selectors.kpi_chart(rows),
            "roster": found,
            "reason_form": ReasonForm(),
            "pay_form": PayForm(),
            "currency": community.currency,
        },
    )


@login_required
@require_POST
def remove(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    organiser = member_access.access_organiser(user=request.user, slug=slug)
    moderator = (
        Membership.objects.select_related("profile", "community")
        .filter(community=organiser.community, pk=member_id)
        .first()
    )
    if moderator is None:
        raise Http404(_("No such member."))
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the moderator is removed."))
    else:
        _done(
            request,
            lambda: services.roster_remove(
                organiser=organiser, membership=moderator, reason=form.cleaned_data["reason"]
            ),
            _("Removed from the roster; the shifts after theirs moved up."),
        )
    return redirect(reverse("rotation:review", kwargs={"slug": slug}))


@login_required
@require_POST
def pay_adjust(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    organiser = member_access.access_money(request=request, slug=slug)
    community = organiser.community
    shift = Shift.objects.filter(community=community, week=_week(community, label)).first()
    if shift is None:
        raise Http404(_("That week has no shift."))
    form = PayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the pay (in minor units) and a reason."))
    else:
        _done(
            request,
            lambda: services.pay_adjust(
                organiser=organiser,
                shift=shift,
                pay=form.cleaned_data["pay"],
                reason=form.cleaned_data["reason"],
            ),
            _("The pay is adjusted; the difference enters this week's operations budget."),
        )
    return redirect(reverse("rotation:review", kwargs={"slug": slug}))
