"""Portal pages for money: the organiser's ledger, offline payments, and the members' view
of the fund (the week's budgets; one's own payments and earnings)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from members import access as member_access
from members.currency import format_amount
from members.errors import add_to_form
from members.models import Membership
from members.pagination import CappedPaginator
from rewards import charts, exports, ledger, selectors, services, subscriptions
from rewards.forms import LedgerFilterForm, OfflinePaymentForm, ReverseForm
from rewards.models import Payment, Refund
from rewards.stripe.views import with_checkout_csp


def money_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Organisers only, signed in with their second factor; otherwise a page saying how."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            viewer = member_access.access_money(request=request, slug=slug)
        except member_access.MFARequired as exc:
            return render(
                request,
                "rewards/mfa_required.html",
                {"message": str(exc), "community": member_access.access_community(slug=slug)},
                status=403,
            )
        # Times typed into the forms are the community's local times (as the pages show them).
        with timezone.override(viewer.community.time_zone):
            return view(request, viewer, *args, **kwargs)

    return login_required(wrapper)


@money_page
def ledger_page(request: HttpRequest, viewer: Membership) -> HttpResponse:
    community = viewer.community
    form = LedgerFilterForm(request.GET or None)
    page = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        try:
            member = None
            if data.get("member"):
                member = selectors.ledger_member(
                    viewer=viewer, community=community, text=data["member"]
                )
            filters = selectors.LedgerFilters(
                kind=data.get("kind") or "", week=data.get("week") or "", membership=member
            )
            qs = selectors.transactions(community=community, filters=filters)
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            page = CappedPaginator(qs, 50).get_page(request.GET.get("page"))
    balances = ledger.balances(community=community)
    return render(
        request,
        "rewards/ledger.html",
        {
            "community": community,
            "viewer": viewer,
            "form": form,
            "page": page,
            "balances": [
                (account, balance, format_amount(balance, community.currency))
                for account, balance in balances
            ],
            "total": format_amount(sum(b for _a, b in balances), community.currency),
        },
    )


@money_page
def statements_page(request: HttpRequest, viewer: Membership) -> HttpResponse:
    community = viewer.community
    starts = selectors.recent_weeks(community, back=25, ahead=8)
    rows = selectors.statements(community=community, starts=starts)
    points = selectors.chart(community=community, starts=starts)
    chart = charts.statements_chart(
        points,
        funds=(
            _("In the funds at the end of each week"),
            {"reward_fund": _("Reward fund"), "operations_fund": _("Operations fund")},
        ),
        budgets=(
            _("Each week's budgets"),
            {
                "reward_budget": _("Weekly reward budget"),
                "operations_budget": _("Weekly operations budget"),
            },
        ),
        currency=community.currency,
    )
    return render(
        request,
        "rewards/statements.html",
        {
            "community": community,
            "viewer": viewer,
            "rows": list(reversed(rows)),
            "chart": chart,
            "currency": community.currency,
        },
    )


@money_page
def ledger_export(request: HttpRequest, viewer: Membership) -> HttpResponseBase:
    return exports.ledger_csv_response(community=viewer.community)


@money_page
@require_http_methods(["GET", "POST"])
def payment_new(request: HttpRequest, viewer: Membership) -> HttpResponse:
    community = viewer.community
    members = list(
        Membership.objects.filter(community=community)
        .exclude(status=Membership.Status.LEFT)
        .select_related("profile")
        .order_by("profile__handle")
    )
    form = OfflinePaymentForm(request.POST or None, community=community, members=members)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        membership = next(m for m in members if str(m.pk) == data["member"])
        try:
            services.payment_record(
                community=community,
                membership=membership,
                kind=data["kind"],
                amount=data["amount"],
                received_at=data["received_at"],
                method=data["method"],
                recorded_by=request.user,  # type: ignore[arg-type]
                reference=data["reference"],
            )
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Payment recorded."))
            return redirect(reverse("rewards:payments", kwargs={"slug": community.slug}))
    return render(
        request,
        "rewards/payment_form.html",
        {"community": community, "viewer": viewer, "form": form},
    )


@money_page
def payments_page(request: HttpRequest, viewer: Membership) -> HttpResponse:
    community = viewer.community
    page = CappedPaginator(selectors.payments(community=community), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "rewards/payments.html",
        {
            "community": community,
            "viewer": viewer,
            "page": page,
            "reverse_form": ReverseForm(currency=community.currency),
        },
    )


@money_page
@require_POST
def payment_reverse(request: HttpRequest, viewer: Membership, payment_id: int) -> HttpResponse:
    community = viewer.community
    payment = Payment.objects.filter(community=community, pk=payment_id).first()
    if payment is None:
        raise Http404(_("No such payment."))
    form = ReverseForm(request.POST, currency=community.currency)
    if form.is_valid():
        try:
            services.payment_reverse(
                payment=payment,
                reason=Refund.Reason.CORRECTION,
                amount=form.cleaned_data["amount"],
                recorded_by=request.user,  # type: ignore[arg-type]
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Reversed; the reversing entries are in the ledger."))
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
    return redirect(reverse("rewards:payments", kwargs={"slug": community.slug}))


@login_required
def fund_page(request: HttpRequest, slug: str) -> HttpResponse:
    """For members: the weeks' budgets, and their own payments and earnings."""
    viewer = member_access.access_directory(user=request.user, slug=slug)
    community = viewer.community
    starts = selectors.recent_weeks(community, back=7, ahead=4)
    rows = selectors.statements(community=community, starts=starts)
    figures = selectors.fund_figures(membership=viewer)
    if request.GET.get("payment-method") == "saved":
        messages.success(
            request, _("Saved with Stripe: your subscription is paid this way from now on.")
        )
    response = render(
        request,
        "rewards/fund.html",
        {
            "community": community,
            "viewer": viewer,
            "weeks": list(reversed(rows)),
            "payments": selectors.member_payments(membership=viewer)[:50],
            "subscription": subscriptions.current_subscription(viewer),
            "earnings": selectors.member_earnings(membership=viewer)[:50],
            "balance": format_amount(figures.owed, community.currency),
            "reward_fund": figures.reward_fund,
            "currency": community.currency,
        },
    )
    # "Change how I pay" posts here and is sent on to Stripe's page.
    return with_checkout_csp(response)
