"""Portal pages of the weekly cycle: a week's results, the archive of closed weeks, the
leaderboard; for organisers the fair-play report with the void form; payouts; and each
member's earnings page with Stripe Connect."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from members import access as member_access
from members import weeks
from members.errors import add_to_form
from members.models import Community, Membership, User
from members.pagination import CappedPaginator
from rewards import fairplay, payouts, results
from rewards.forms import PayoutBatchForm, VoidForm
from rewards.models import ConnectedAccount, PayoutBatch, Prize
from rewards.stripe import gateway as stripe_gateway
from rewards.stripe.views import STRIPE_CONNECT_ORIGIN, with_checkout_csp
from rewards.views import money_page


def _week(community: Community, label: str) -> datetime.date:
    try:
        return weeks.parse(community, label)
    except ValidationError:
        raise Http404(_("Write a week as 2026-W48.")) from None


@login_required
def week_results(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    """A week's results: places, handles, votes and amounts, every voted answer with its
    votes, the budget and what rolled over (members)."""
    viewer = member_access.access_directory(user=request.user, slug=slug)
    community = viewer.community
    week = _week(community, label)
    found = results.week_results(community=community, week=week, with_ballot=True)
    return render(
        request,
        "rewards/results.html",
        {
            "community": community,
            "viewer": viewer,
            "results": found,
            "currency": community.currency,
            "previous": weeks.label(week - datetime.timedelta(days=7)),
            "next": weeks.label(week + datetime.timedelta(days=7)),
        },
    )


@login_required
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    """Every closed week, newest first, with its winners."""
    viewer = member_access.access_directory(user=request.user, slug=slug)
    community = viewer.community
    page = CappedPaginator(results.closed_weeks(community=community), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "rewards/archive.html",
        {"community": community, "viewer": viewer, "page": page, "currency": community.currency},
    )


@login_required
def leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Members by what they won: this month, this year, all time."""
    viewer = member_access.access_directory(user=request.user, slug=slug)
    community = viewer.community
    period = request.GET.get("period", results.Period.MONTH)
    try:
        rows = results.leaderboard(community=community, period=period)
    except ValidationError:
        period = results.Period.MONTH
        rows = results.leaderboard(community=community, period=period)
    return render(
        request,
        "rewards/leaderboard.html",
        {
            "community": community,
            "viewer": viewer,
            "rows": rows,
            "period": period,
            "periods": results.Period.CHOICES,
            "currency": community.currency,
        },
    )


@money_page
def fair_play(request: HttpRequest, viewer: Membership, label: str) -> HttpResponse:
    """Organisers: a closed week's voting patterns and its prizes, each with a void form."""
    community = viewer.community
    week = _week(community, label)
    found = results.week_results(community=community, week=week)
    return render(
        request,
        "rewards/fair_play.html",
        {
            "community": community,
            "viewer": viewer,
            "results": found,
            "report": fairplay.report(community=community, week=week),
            "void_form": VoidForm(),
            "currency": community.currency,
        },
    )


@money_page
@require_POST
def prize_void(request: HttpRequest, viewer: Membership, prize_id: int) -> HttpResponse:
    community = viewer.community
    prize = (
        Prize.objects.filter(week_close__community=community, pk=prize_id)
        .select_related("week_close")
        .first()
    )
    if prize is None:
        raise Http404(_("No such prize."))
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            fairplay.prize_void(
                actor=request.user,  # type: ignore[arg-type]
                prize=prize,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("The win is voided; the prize is back in this week's reward budget."),
            )
    else:
        messages.error(request, _("Say why the win is voided."))
    return redirect(
        reverse(
            "rewards:fair_play",
            kwargs={"slug": community.slug, "label": weeks.label(prize.week_close.week)},
        )
    )


# --- Payouts (organisers) ----------------------------------------------------------------------


def _methods(community: Community) -> list[tuple[str, str]]:
    methods = [(m.value, str(m.label)) for m in payouts.BY_HAND]
    if payouts.stripe_payouts_enabled():
        methods.append((payouts.Method.STRIPE.value, str(payouts.Method.STRIPE.label)))
    return methods


@money_page
@require_http_methods(["GET", "POST"])
def payouts_page(request: HttpRequest, viewer: Membership) -> HttpResponse:
    """What members are owed (and what of it is held), a form to pay one or a batch, and the
    payouts made."""
    community = viewer.community
    payables = payouts.payables(community=community)
    methods = _methods(community)
    form = PayoutBatchForm(
        request.POST or None, payables=payables, methods=methods, currency=community.currency
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = payouts.payouts_batch(
                actor=request.user,  # type: ignore[arg-type]
                community=community,
                items=form.items(),
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(
                request,
                _("%(n)d payouts recorded. Download the batch for your bank below.")
                % {"n": batch.payouts.count()},
            )
            return redirect(reverse("rewards:payouts", kwargs={"slug": community.slug}))
    return render(
        request,
        "rewards/payouts.html",
        {
            "community": community,
            "viewer": viewer,
            "form": form,
            "rows": form.rows,
            "payouts": payouts.payouts_of(community=community),
            "batches": PayoutBatch.objects.filter(community=community)[:20],
            "currency": community.currency,
            "hold_hours": community.payout_hold_hours,
        },
    )


@money_page
def batch_export(request: HttpRequest, viewer: Membership, batch_id: int) -> HttpResponse:
    batch = PayoutBatch.objects.filter(community=viewer.community, pk=batch_id).first()
    if batch is None:
        raise Http404(_("No such batch."))
    response = HttpResponse(
        payouts.batch_csv(batch=batch, viewer=viewer), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{viewer.community.slug}-payouts-{batch.pk}.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Earnings (every member) -------------------------------------------------------------------


@login_required
def earnings_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A member's earnings: won, tipped, moderator pay, paid out, owed — and the way to be
    paid through Stripe."""
    viewer = member_access.access_own_profile(user=request.user, slug=slug)
    community = viewer.community
    connected = None
    if payouts.stripe_payouts_enabled() and request.GET.get("connect") == "done":
        try:
            connected = payouts.connect_refresh(user=request.user)  # type: ignore[arg-type]
        except stripe_gateway.StripeUnavailableError:
            messages.error(request, _("Stripe could not be asked just now; try again later."))
    if connected is None:
        connected = ConnectedAccount.objects.filter(user_id=viewer.user_id).first()
    response = render(
        request,
        "rewards/earnings.html",
        {
            "community": community,
            "viewer": viewer,
            "earnings": payouts.earnings(membership=viewer),
            "payouts": payouts.payouts_of(community=community, membership=viewer),
            "prizes": Prize.objects.filter(membership=viewer)
            .select_related("week_close", "answer__question")
            .order_by("-week_close__week")[:50],
            "connected": connected,
            "stripe_payouts": payouts.stripe_payouts_enabled(),
            "currency": community.currency,
        },
    )
    # "Connect a Stripe account" posts here and is sent on to Stripe's onboarding pages.
    return with_checkout_csp(response, origin=STRIPE_CONNECT_ORIGIN)


@login_required
@require_POST
def connect(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Start (or finish) connecting a Stripe account: on to Stripe's onboarding pages."""
    viewer = member_access.access_own_profile(user=request.user, slug=slug)
    back = reverse("rewards:earnings", kwargs={"slug": viewer.community.slug})
    if not payouts.stripe_payouts_enabled():
        messages.error(request, _("Payouts through Stripe are not set up on this site."))
        return redirect(back)
    user: User = request.user  # type: ignore[assignment]
    try:
        url = payouts.connect_start(
            user=user,
            return_url=f"{settings.SITE_URL}{back}?connect=done",
            refresh_url=f"{settings.SITE_URL}{back}",
        )
    except stripe_gateway.StripeUnavailableError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect(url)
