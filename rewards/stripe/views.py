"""Portal pages for paying through Stripe: joining a community, tipping an answer, the "thank
you" page Stripe sends the payer back to, and the webhook endpoint.

The pages with a "pay" button allow that form to lead on to Stripe's payment page in their
Content-Security-Policy (``form-action``); every other page keeps the site's strict one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from members import access as member_access
from members.currency import format_amount, to_minor
from members.errors import add_to_form, error_dict
from questions import access as question_access
from rewards import checkout, subscriptions, webhooks
from rewards.models import CheckoutSession
from rewards.stripe import gateway as stripe_gateway

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
STRIPE_CONNECT_ORIGIN = "https://connect.stripe.com"


def with_checkout_csp(
    response: HttpResponse, *, origin: str = STRIPE_CHECKOUT_ORIGIN
) -> HttpResponse:
    """Let this page's form go on to Stripe's payment page (``form-action`` covers the
    redirect that follows the POST), or to ``origin`` (Connect's onboarding)."""
    origins = [origin]
    if settings.STRIPE_API_BASE:
        parts = urlsplit(settings.STRIPE_API_BASE)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    policy = settings.CONTENT_SECURITY_POLICY
    if policy:
        response.headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", "form-action 'self' " + " ".join(origins)
        )
    return response


def checkout_urls(request: HttpRequest) -> checkout.UrlsFor:
    """Where Stripe sends the payer back: our "thank you" page, or the cancelled one."""

    def urls(row: CheckoutSession) -> tuple[str, str]:
        kwargs = {"slug": row.community.slug, "checkout_id": row.pk}
        return (
            request.build_absolute_uri(reverse("rewards:checkout_done", kwargs=kwargs)),
            request.build_absolute_uri(reverse("rewards:checkout_cancelled", kwargs=kwargs)),
        )

    return urls


def _to_stripe(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, slug: str) -> HttpResponse:
    """Pay to join (entrance fee and the monthly subscription), or resume when lapsed."""
    community = member_access.access_community(slug=slug)
    viewer = member_access.membership_of(user=request.user, community=community)
    if not checkout.may_join(viewer):
        messages.info(request, _("You are already a member of this community."))
        return redirect(community.get_absolute_url())
    entrance, monthly = checkout.join_amounts(community=community, membership=viewer)
    credit = checkout.winnings_credit(community=community, membership=viewer)
    status = 200
    demo = checkout.demo_payments_offered()
    if request.method == "POST" and "demo" in request.POST:
        if not demo:
            raise Http404(_("Demo payments are not available on this site."))
        try:
            checkout.join_demo(user=request.user, community=community)  # type: ignore[arg-type]
        except ValidationError as exc:
            for problems in error_dict(exc).values():
                messages.error(request, " ".join(problems))
            status = 400
        else:
            messages.success(
                request, _("Welcome! Your demo payment is recorded: you are now a member.")
            )
            return redirect(community.get_absolute_url())
    elif request.method == "POST":
        try:
            row = checkout.join_start(
                user=request.user,  # type: ignore[arg-type]
                community=community,
                urls=checkout_urls(request),
            )
        except ValidationError as exc:
            for problems in error_dict(exc).values():
                messages.error(request, " ".join(problems))
            status = 400
        except stripe_gateway.StripeUnavailableError as exc:
            messages.error(request, str(exc))
            status = 503
        else:
            return _to_stripe(row.url)
    context = {
        "community": community,
        "viewer": viewer,
        "resuming": viewer is not None and viewer.status == viewer.Status.LAPSED,
        "entrance_fee": format_amount(entrance, community.currency) if entrance else "",
        "monthly_fee": format_amount(monthly, community.currency) if monthly else "",
        "today": format_amount(entrance + monthly, community.currency),
        "winnings": format_amount(credit, community.currency) if credit else "",
        "online": stripe_gateway.configured(),
        "demo": demo,
    }
    return with_checkout_csp(render(request, "rewards/join.html", context, status=status))


class TipForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("Amount"), max_length=20, help_text=gettext_lazy("e.g. 5.00")
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        text = str(self.cleaned_data["amount"]).replace(",", "").strip()
        try:
            return to_minor(text, self.currency)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


@login_required
@require_http_methods(["GET", "POST"])
def tip(request: HttpRequest, slug: str, answer_id: int) -> HttpResponse:
    """Tip an answer's author through Stripe Checkout."""
    viewer, answer = question_access.access_answer(
        user=request.user, answer_id=answer_id, slug=slug
    )
    try:
        tipper = checkout.check_tip(tipper=viewer, answer=answer)
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from None
    community = tipper.community
    form = TipForm(request.POST or None, currency=community.currency)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                row = checkout.tip_start(
                    tipper=tipper,
                    answer=answer,
                    amount=form.cleaned_data["amount"],
                    urls=checkout_urls(request),
                )
            except ValidationError as exc:
                add_to_form(form, exc)
            except stripe_gateway.StripeUnavailableError as exc:
                form.add_error(None, str(exc))
                status = 503
            else:
                return _to_stripe(row.url)
    context = {
        "community": community,
        "viewer": viewer,
        "answer": answer,
        "form": form,
        "fee_percent": community.tip_fee_percent,
        "online": stripe_gateway.configured(),
    }
    return with_checkout_csp(render(request, "rewards/tip.html", context, status=status))


def _own_checkout(request: HttpRequest, slug: str, checkout_id: int) -> CheckoutSession:
    try:
        return checkout.checkout_for(user=request.user, checkout_id=checkout_id, slug=slug)  # type: ignore[arg-type]
    except CheckoutSession.DoesNotExist:
        raise Http404(_("No such payment.")) from None


@login_required
def checkout_done(request: HttpRequest, slug: str, checkout_id: int) -> HttpResponse:
    """Where Stripe sends the payer back. Coming back proves nothing: the page says what the
    webhooks have confirmed so far, and looks again every few seconds until they have."""
    row = _own_checkout(request, slug, checkout_id)
    membership = row.membership
    if row.kind == CheckoutSession.Kind.JOIN:
        confirmed = membership.is_reader and row.status == CheckoutSession.Status.COMPLETED
    else:
        confirmed = row.status == CheckoutSession.Status.COMPLETED
    context = {
        "community": row.community,
        "viewer": membership,
        "checkout": row,
        "confirmed": confirmed,
        "amount": format_amount(row.amount_due, row.currency),
    }
    return render(request, "rewards/checkout_done.html", context)


@login_required
def checkout_cancelled(request: HttpRequest, slug: str, checkout_id: int) -> HttpResponse:
    row = _own_checkout(request, slug, checkout_id)
    messages.info(request, _("Payment cancelled: nothing was charged."))
    if row.kind == CheckoutSession.Kind.TIP and row.answer is not None:
        return redirect(row.answer.get_absolute_url())
    return redirect(row.community.get_absolute_url())


@login_required
@require_POST
def subscription_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    """The member cancels their monthly subscription (from the fund page)."""
    viewer = member_access.access_directory(user=request.user, slug=slug)
    try:
        subscriptions.subscription_cancel(membership=viewer)
    except ValidationError as exc:
        for problems in error_dict(exc).values():
            messages.error(request, " ".join(problems))
    else:
        messages.success(
            request, _("Cancelled: you stay a member until the end of the month you paid for.")
        )
    return redirect(reverse("rewards:fund", kwargs={"slug": slug}))


def payment_method_urls(request: HttpRequest, slug: str) -> tuple[str, str]:
    """Where Stripe sends a member back after changing how they pay: the fund page, saying
    so, or as it was."""
    fund = request.build_absolute_uri(reverse("rewards:fund", kwargs={"slug": slug}))
    return f"{fund}?payment-method=saved", fund


@login_required
@require_POST
def subscription_payment_method(request: HttpRequest, slug: str) -> HttpResponse:
    """The member changes how their subscription is paid, on a Stripe Checkout page."""
    viewer = member_access.access_directory(user=request.user, slug=slug)
    success_url, cancel_url = payment_method_urls(request, slug)
    try:
        url = subscriptions.payment_method_update_url(
            membership=viewer, success_url=success_url, cancel_url=cancel_url
        )
    except ValidationError as exc:
        for problems in error_dict(exc).values():
            messages.error(request, " ".join(problems))
    except stripe_gateway.StripeUnavailableError as exc:
        messages.error(request, str(exc))
    else:
        return _to_stripe(url)
    return redirect(reverse("rewards:fund", kwargs={"slug": slug}))


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook (contract: ``POST /payments/stripe/webhook/``): verified, stored once,
    acknowledged; the work happens in a task."""
    try:
        event = webhooks.event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except stripe_gateway.WebhookRejectedError as exc:
        return HttpResponseBadRequest(f"Webhook refused: {exc}", content_type="text/plain")
    return JsonResponse({"received": True, "id": event.event_id})
