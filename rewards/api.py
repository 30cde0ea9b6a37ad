"""REST API for money (SPEC §5): offline payments, a week's budgets, the ledger."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members import access as member_access
from members import weeks
from members.api import paginated, query_params
from members.models import Membership
from rewards import exports, ledger, schedules, selectors, services
from rewards.models import Payment, Refund
from rewards.serializers import (
    PaymentInputSerializer,
    ReverseInputSerializer,
    payment_data,
    transaction_data,
)


class PaymentListView(APIView):
    @extend_schema(operation_id="payments_list", responses={200: dict})
    def get(self, request: Request, slug: str) -> Response:
        """Every payment with its refunds (organisers, signed in with two factors)."""
        viewer = member_access.access_money(request=request, slug=slug)
        return paginated(
            request, self, selectors.payments(community=viewer.community), payment_data
        )

    @extend_schema(request=PaymentInputSerializer, responses={201: dict})
    def post(self, request: Request, slug: str) -> Response:
        """Record an offline payment (bank transfer, cash): it enters the ledger and the fund
        schedule like a Stripe one. ``amount`` is an integer of minor units."""
        viewer = member_access.access_money(request=request, slug=slug)
        serializer = PaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        membership = Membership.objects.filter(
            community=viewer.community, pk=data["member"]
        ).first()
        if membership is None:
            raise ValidationError({"member": _("Choose a member of this community.")})
        payment = services.payment_record(
            community=viewer.community,
            membership=membership,
            kind=data["kind"],
            amount=data["amount"],
            received_at=data["received_at"],
            method=data["method"],
            recorded_by=request.user,  # type: ignore[arg-type]
            reference=data.get("reference", ""),
        )
        return Response(payment_data(payment), status=status.HTTP_201_CREATED)


class PaymentReverseView(APIView):
    @extend_schema(request=ReverseInputSerializer, responses={201: dict})
    def post(self, request: Request, slug: str, payment_id: int) -> Response:
        """Reverse a mistaken offline payment (all of it, or ``amount``): a correction with
        reversing entries; nothing is deleted."""
        viewer = member_access.access_money(request=request, slug=slug)
        payment = Payment.objects.filter(community=viewer.community, pk=payment_id).first()
        if payment is None:
            raise Http404(_("No such payment."))
        serializer = ReverseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.payment_reverse(
            payment=payment,
            reason=Refund.Reason.CORRECTION,
            amount=serializer.validated_data.get("amount"),
            recorded_by=request.user,  # type: ignore[arg-type]
            note=serializer.validated_data.get("note", ""),
        )
        return Response(payment_data(payment), status=status.HTTP_201_CREATED)


class WeekView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, slug: str, week: str) -> Response:
        """A week's budgets (scheduled shares plus rollover in), rollover, winners and the
        moderator's pay — the last three once the week is closed (members)."""
        viewer = member_access.access_directory(user=request.user, slug=slug)
        community = viewer.community
        try:
            start = weeks.parse(community, week)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
        [budget] = schedules.budgets(community=community, weeks=[start])
        return Response(
            {
                "week": weeks.label(start),
                "begins_at": weeks.begins_at(community, start),
                "ends_at": weeks.ends_at(community, start),
                "currency": community.currency,
                "reward_budget": budget.reward_budget,
                "operations_budget": budget.operations_budget,
                "reward_scheduled": budget.reward_scheduled,
                "operations_scheduled": budget.operations_scheduled,
                "rollover_in": {
                    "reward": budget.reward_rollover_in,
                    "operations": budget.operations_rollover_in,
                },
                "rollover_out": None,
                "closed": False,
                "winners": [],
                "moderator": None,
                "moderator_pay": None,
            }
        )


class LedgerView(APIView):
    @extend_schema(
        operation_id="ledger_list",
        parameters=[
            OpenApiParameter("kind", str, description="Transaction kind."),
            OpenApiParameter("week", str, description="2026-W48"),
            OpenApiParameter("member", int, description="A member's id."),
        ],
        responses={200: dict},
    )
    def get(self, request: Request, slug: str) -> Response:
        """Transactions with their entries, newest first (organisers, two factors)."""
        viewer = member_access.access_money(request=request, slug=slug)
        params = query_params(request)
        member = params.get("member", "")
        if member and not member.isdigit():
            raise ValidationError({"member": _("Give a member's id.")})
        filters = selectors.LedgerFilters(
            kind=params.get("kind", ""),
            week=params.get("week", ""),
            member=int(member) if member else None,
        )
        qs = selectors.transactions(community=viewer.community, filters=filters)
        return paginated(request, self, qs, transaction_data)


class BalancesView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, slug: str) -> Response:
        """Every account's balance, signed (debit positive, credit negative): they sum to 0."""
        viewer = member_access.access_money(request=request, slug=slug)
        return Response(
            [
                {"account": selectors.account_key(account), "balance": balance}
                for account, balance in ledger.balances(community=viewer.community)
            ]
        )


class LedgerExportView(APIView):
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request, slug: str) -> Any:
        """Every entry as CSV; its totals per account reconcile to the balances."""
        viewer = member_access.access_money(request=request, slug=slug)
        return exports.ledger_csv_response(community=viewer.community)
