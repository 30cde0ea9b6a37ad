"""REST API for paying through Stripe Checkout: start joining, start a tip, see one's own
checkout. The answer carries Stripe's payment page address (``url``) to send the payer to;
membership and tips are confirmed by the webhook, never by this call."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members import access as member_access
from members.serializers import MinorUnitsField, StrictPayloadMixin
from questions import access as question_access
from rewards import checkout, subscriptions
from rewards.models import CheckoutSession
from rewards.serializers import (
    CheckoutOutputSerializer,
    PaymentMethodPageSerializer,
    SubscriptionCancelledSerializer,
)
from rewards.stripe import gateway as stripe_gateway
from rewards.stripe.views import checkout_urls, payment_method_urls


class StripeUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("Paying online is not available just now.")
    default_code = "stripe_unavailable"


class JoinInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    """No fields: the fees are the community's."""


class TipInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    amount = MinorUnitsField(help_text=gettext_lazy("The tip in minor units (fen), e.g. 500."))


def checkout_data(row: CheckoutSession) -> dict[str, Any]:
    return {
        "id": row.pk,
        "kind": row.kind,
        "status": row.status,
        "currency": row.currency,
        "entrance_amount": row.entrance_amount,
        "monthly_amount": row.monthly_amount,
        "tip_amount": row.tip_amount,
        "amount_due": row.amount_due,
        "answer": row.answer_id,
        "url": row.url if row.status == CheckoutSession.Status.OPEN else "",
        "membership_status": row.membership.status,
        "created_at": row.created_at,
        "completed_at": row.completed_at,
    }


class JoinCheckoutView(APIView):
    @extend_schema(request=JoinInputSerializer, responses={201: CheckoutOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Start paying to join (entrance fee and monthly subscription; a lapsed member
        resumes with the monthly fee). 201 with Stripe's payment page in ``url``."""
        community = member_access.access_community(slug=slug)
        JoinInputSerializer(data=request.data).is_valid(raise_exception=True)
        try:
            row = checkout.join_start(
                user=request.user,  # type: ignore[arg-type]
                community=community,
                urls=checkout_urls(request._request),
            )
        except stripe_gateway.StripeUnavailableError as exc:
            raise StripeUnavailable(str(exc)) from None
        return Response(checkout_data(row), status=status.HTTP_201_CREATED)


class TipCheckoutView(APIView):
    @extend_schema(request=TipInputSerializer, responses={201: CheckoutOutputSerializer})
    def post(self, request: Request, answer_id: int) -> Response:
        """Start tipping an answer's author (active members, not the author). ``amount`` is
        an integer of minor units. 201 with Stripe's payment page in ``url``."""
        viewer, answer = question_access.access_answer(user=request.user, answer_id=answer_id)
        checkout.check_tip(tipper=viewer, answer=answer)  # 403 for non-members first
        serializer = TipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            row = checkout.tip_start(
                tipper=viewer,
                answer=answer,
                amount=serializer.validated_data["amount"],
                urls=checkout_urls(request._request),
            )
        except stripe_gateway.StripeUnavailableError as exc:
            raise StripeUnavailable(str(exc)) from None
        return Response(checkout_data(row), status=status.HTTP_201_CREATED)


class CheckoutDetailView(APIView):
    @extend_schema(responses={200: CheckoutOutputSerializer})
    def get(self, request: Request, checkout_id: int) -> Response:
        """One's own checkout: its status, and the membership's (the payer's only)."""
        try:
            row = checkout.checkout_for(user=request.user, checkout_id=checkout_id)  # type: ignore[arg-type]
        except CheckoutSession.DoesNotExist:
            raise Http404(_("No such payment.")) from None
        return Response(checkout_data(row))


class SubscriptionCancelView(APIView):
    @extend_schema(request=None, responses={200: SubscriptionCancelledSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Cancel one's own monthly subscription: it stops at the end of the month paid for
        (a member until then)."""
        viewer = member_access.access_directory(user=request.user, slug=slug)
        row = subscriptions.subscription_cancel(membership=viewer)
        return Response(
            {
                "cancel_at_period_end": row.cancel_at_period_end,
                "cancel_requested_at": row.cancel_requested_at,
                "membership_status": viewer.status,
            }
        )


class SubscriptionPaymentMethodView(APIView):
    @extend_schema(request=None, responses={200: PaymentMethodPageSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Change how one's monthly subscription is paid: ``url`` is a Stripe Checkout page
        that saves a new card or account (charging nothing) and comes back to the
        community's fund page."""
        viewer = member_access.access_directory(user=request.user, slug=slug)
        success_url, cancel_url = payment_method_urls(request._request, slug)
        try:
            url = subscriptions.payment_method_update_url(
                membership=viewer, success_url=success_url, cancel_url=cancel_url
            )
        except stripe_gateway.StripeUnavailableError as exc:
            raise StripeUnavailable(str(exc)) from None
        return Response({"url": url})
