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
from members.serializers import page_of
from rewards import exports, fairplay, ledger, payouts, selectors, services
from rewards import results as results_selectors
from rewards.models import Payment, Prize, Refund, WeekClose
from rewards.serializers import (
    BalanceSerializer,
    ClosedWeekSerializer,
    EarningsSerializer,
    FairPlaySerializer,
    LeaderboardSerializer,
    PaymentInputSerializer,
    PaymentOutputSerializer,
    PayoutInputSerializer,
    PayoutListSerializer,
    PayoutOutputSerializer,
    PrizeVoidedSerializer,
    ReverseInputSerializer,
    TransactionOutputSerializer,
    VoidInputSerializer,
    WeekSerializer,
    payment_data,
    payout_data,
    transaction_data,
)


class PaymentListView(APIView):
    @extend_schema(
        operation_id="payments_list",
        responses={200: page_of(PaymentOutputSerializer(many=True), "Payment")},
    )
    def get(self, request: Request, slug: str) -> Response:
        """Every payment with its refunds (organisers, signed in with two factors)."""
        viewer = member_access.access_money(request=request, slug=slug)
        return paginated(
            request, self, selectors.payments(community=viewer.community), payment_data
        )

    @extend_schema(request=PaymentInputSerializer, responses={201: PaymentOutputSerializer})
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
    @extend_schema(request=ReverseInputSerializer, responses={201: PaymentOutputSerializer})
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


def week_data(results: results_selectors.WeekResults) -> dict[str, Any]:
    """A week as SPEC §5 gives it: budgets and rollover; once closed, the winners, the
    rollover out and the moderator's pay and KPIs."""
    community, budget, close = results.community, results.budget, results.close
    closed = results.closed
    data: dict[str, Any] = {
        "week": results.label,
        "begins_at": weeks.begins_at(community, results.week),
        "ends_at": weeks.ends_at(community, results.week),
        "currency": community.currency,
        "closed": closed,
        "reward_budget": budget.reward_budget,
        "operations_budget": budget.operations_budget,
        "reward_scheduled": budget.reward_scheduled,
        "operations_scheduled": budget.operations_scheduled,
        "rollover_in": {
            "reward": budget.reward_rollover_in,
            "operations": budget.operations_rollover_in,
        },
        "late_shares": {"reward": budget.reward_late, "operations": budget.operations_late},
        "adjustments": {
            "reward": budget.reward_adjustments,
            "operations": budget.operations_adjustments,
        },
        "rollover_out": None,
        "winners": [],
        "moderator": None,
        "moderator_pay": None,
        "kpis": {},
    }
    if closed and close is not None:
        data["rollover_out"] = {
            "reward": close.reward_rollover_out,
            "operations": close.operations_rollover_out,
        }
        data["paid"] = {"reward": close.reward_paid, "operations": close.operations_paid}
        data["closed_at"] = close.closed_at
        data["winners"] = [
            {
                "place": prize.place,
                "answer": prize.answer_id,
                "question": prize.answer.question_id,
                "member": prize.membership_id,
                "handle": prize.membership.profile.handle,
                "votes": prize.votes,
                "amount": prize.amount,
                "voided": prize.is_voided,
            }
            for prize in results.prizes
        ]
        if close.moderator_id is not None:
            data["moderator"] = {
                "member": close.moderator_id,
                "handle": close.moderator.profile.handle if close.moderator else "",
            }
        data["moderator_pay"] = close.moderator_pay
        data["kpis"] = close.kpis or {}
    return data


class WeekView(APIView):
    @extend_schema(responses={200: WeekSerializer})
    def get(self, request: Request, slug: str, week: str) -> Response:
        """A week's budgets (scheduled shares plus rollover in), rollover, winners and the
        moderator's pay — the last three once the week is closed (members)."""
        viewer = member_access.access_directory(user=request.user, slug=slug)
        community = viewer.community
        try:
            start = weeks.parse(community, week)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
        return Response(week_data(results_selectors.week_results(community=community, week=start)))


class LedgerView(APIView):
    @extend_schema(
        operation_id="ledger_list",
        parameters=[
            OpenApiParameter("kind", str, description="Transaction kind."),
            OpenApiParameter("week", str, description="2026-W48"),
            OpenApiParameter("member", int, description="A member's id."),
        ],
        responses={200: page_of(TransactionOutputSerializer(many=True), "Transaction")},
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
    @extend_schema(
        operation_id="v1_communities_ledger_balances_retrieve",
        responses={200: BalanceSerializer(many=True)},
    )
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


def closed_week_data(close: WeekClose) -> dict[str, Any]:
    return {
        "week": weeks.label(close.week),
        "closed_at": close.closed_at,
        "reward_budget": close.reward_budget,
        "reward_paid": close.reward_paid,
        "rollover_out": {
            "reward": close.reward_rollover_out,
            "operations": close.operations_rollover_out,
        },
        "winners": [
            {
                "place": p.place,
                "answer": p.answer_id,
                "member": p.membership_id,
                "handle": p.membership.profile.handle,
                "votes": p.votes,
                "amount": p.amount,
                "voided": p.is_voided,
            }
            for p in close.prizes.all()
        ],
    }


class WeekListView(APIView):
    @extend_schema(
        operation_id="weeks_list",
        responses={200: page_of(ClosedWeekSerializer(many=True), "ClosedWeek")},
    )
    def get(self, request: Request, slug: str) -> Response:
        """The closed weeks, newest first, with their winners (members)."""
        viewer = member_access.access_directory(user=request.user, slug=slug)
        return paginated(
            request,
            self,
            results_selectors.closed_weeks(community=viewer.community),
            closed_week_data,
        )


class LeaderboardView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("period", str, enum=["month", "year", "all"])],
        responses={200: LeaderboardSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        """Members by what they won in the period's closed weeks (members)."""
        viewer = member_access.access_directory(user=request.user, slug=slug)
        period = query_params(request).get("period", "month")
        rows = results_selectors.leaderboard(community=viewer.community, period=period)
        return Response(
            {
                "period": period,
                "currency": viewer.community.currency,
                "results": [
                    {
                        "rank": r.rank,
                        "member": r.membership_id,
                        "handle": r.handle,
                        "wins": r.wins,
                        "first_places": r.firsts,
                        "votes": r.votes,
                        "amount": r.amount,
                    }
                    for r in rows
                ],
            }
        )


class FairPlayView(APIView):
    @extend_schema(responses={200: FairPlaySerializer})
    def get(self, request: Request, slug: str, week: str) -> Response:
        """A week's voting-pattern report (organisers, two factors)."""
        viewer = member_access.access_money(request=request, slug=slug)
        community = viewer.community
        try:
            start = weeks.parse(community, week)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
        report = fairplay.report(community=community, week=start)

        def person(p: fairplay.Person) -> dict[str, Any]:
            return {"member": p.membership_id, "handle": p.handle}

        return Response(
            {
                "week": report.label,
                "votes": report.votes,
                "voters": report.voters,
                "mutual_pairs": [
                    {
                        "members": [person(r.first), person(r.second)],
                        "votes": [r.first_to_second, r.second_to_first],
                    }
                    for r in report.mutual_pairs
                ],
                "one_author_voters": [
                    {"voter": person(r.voter), "author": person(r.author), "votes": r.votes}
                    for r in report.one_author_voters
                ],
                "new_voters": [
                    {"voter": person(r.voter), "activated_at": r.activated_at, "votes": r.votes}
                    for r in report.new_voters
                ],
            }
        )


class PrizeVoidView(APIView):
    @extend_schema(request=VoidInputSerializer, responses={200: PrizeVoidedSerializer})
    def post(self, request: Request, prize_id: int) -> Response:
        """Void a win before it is paid out, with a reason (organisers, two factors): the
        prize goes back to the reward fund, into this week's budget."""
        prize = Prize.objects.select_related("week_close__community").filter(pk=prize_id).first()
        if prize is None:
            raise Http404(_("No such prize."))
        member_access.access_money(request=request, slug=prize.week_close.community.slug)
        serializer = VoidInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voided = fairplay.prize_void(
            actor=request.user,  # type: ignore[arg-type]
            prize=prize,
            reason=serializer.validated_data["reason"],
        )
        return Response(
            {
                "id": voided.pk,
                "voided": True,
                "voided_at": voided.voided_at,
                "reason": voided.void_reason,
                "amount": voided.amount,
            }
        )


class PayoutListView(APIView):
    @extend_schema(operation_id="payouts_list", responses={200: PayoutListSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """What members are owed (``balance``, ``held`` in the hold after a close,
        ``available`` now) and the payouts made, newest first (organisers, two factors)."""
        viewer = member_access.access_money(request=request, slug=slug)
        community = viewer.community
        return Response(
            {
                "currency": community.currency,
                "hold_hours": community.payout_hold_hours,
                "payables": [
                    {
                        "member": p.membership.pk,
                        "handle": p.membership.profile.handle,
                        "balance": p.balance,
                        "held": p.held,
                        "held_until": p.held_until,
                        "available": p.available,
                    }
                    for p in payouts.payables(community=community)
                ],
                "payouts": [payout_data(p) for p in payouts.payouts_of(community=community)],
            }
        )

    @extend_schema(request=PayoutInputSerializer, responses={201: PayoutOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Record a payout: ``method`` bank_transfer, alipay, wechat_pay or cash (already sent,
        with its ``reference``), or stripe (sent to the member's connected account). More
        than the balance, or than what is out of the hold, is 400 naming ``amount``."""
        viewer = member_access.access_money(request=request, slug=slug)
        serializer = PayoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payout = payouts.payout_record(
            actor=request.user,  # type: ignore[arg-type]
            community=viewer.community,
            member=data["member"],
            amount=data["amount"],
            method=data["method"],
            reference=data.get("reference", ""),
        )
        return Response(payout_data(payout), status=status.HTTP_201_CREATED)


class EarningsView(APIView):
    @extend_schema(responses={200: EarningsSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """The caller's earnings in the community: won, tips, moderator pay, paid out, owed."""
        viewer = member_access.access_own_profile(user=request.user, slug=slug)
        found = payouts.earnings(membership=viewer)
        return Response(
            {
                "currency": viewer.community.currency,
                "won": found.won,
                "tips": found.tips,
                "moderator_pay": found.moderator_pay,
                "used_to_join": found.used_to_join,
                "paid_out": found.paid_out,
                "owed": found.owed,
                "held": found.held,
                "available": found.available,
                "payouts": [
                    payout_data(p)
                    for p in payouts.payouts_of(community=viewer.community, membership=viewer)
                ],
            }
        )
