"""The rotation's API (SPEC §5): the roster and schedule, signing up and withdrawing, swaps,
removal and the organiser's pay review. Services do the writing; refusals are 400 naming
the field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members import access as member_access
from members import weeks
from members.models import Membership
from members.serializers import errors
from rotation import access, selectors, services
from rotation.models import Shift, SwapRequest


class RosterEntrySerializer(serializers.Serializer[Any]):
    member = serializers.IntegerField()
    handle = serializers.CharField()
    signed_up_at = serializers.DateTimeField()


class ScheduleEntrySerializer(serializers.Serializer[Any]):
    week = serializers.CharField(help_text=_("2026-W48"))
    member = serializers.IntegerField(allow_null=True)
    handle = serializers.CharField(allow_null=True)
    fixed = serializers.BooleanField()
    pinned = serializers.BooleanField()


class RosterOutputSerializer(serializers.Serializer[Any]):
    roster = RosterEntrySerializer(many=True)
    schedule = ScheduleEntrySerializer(many=True)


class SignedUpSerializer(serializers.Serializer[Any]):
    member = serializers.IntegerField()
    signed_up_at = serializers.DateTimeField()


class SwapOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=SwapRequest.State.choices)
    requester = serializers.IntegerField()
    requester_week = serializers.CharField()
    responder = serializers.IntegerField()
    responder_week = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class SwapListSerializer(serializers.Serializer[Any]):
    incoming = SwapOutputSerializer(many=True)
    outgoing = SwapOutputSerializer(many=True)


class PayAdjustedSerializer(serializers.Serializer[Any]):
    week = serializers.CharField()
    member = serializers.IntegerField(allow_null=True)
    pay_before = serializers.IntegerField(allow_null=True)
    moderator_pay = serializers.IntegerField()
    entered_week = serializers.CharField()
    reason = serializers.CharField()


class ShiftKpisSerializer(serializers.Serializer[Any]):
    answerers = serializers.IntegerField(allow_null=True)
    answers = serializers.IntegerField(allow_null=True)
    quality = serializers.FloatField(allow_null=True)
    digest_on_time = serializers.BooleanField(allow_null=True)


class ShiftOutputSerializer(serializers.Serializer[Any]):
    week = serializers.CharField()
    member = serializers.IntegerField(allow_null=True)
    handle = serializers.CharField(allow_null=True)
    pinned = serializers.BooleanField()
    kpis = ShiftKpisSerializer(allow_null=True, help_text=_("Null until computed."))
    operations_budget = serializers.IntegerField(allow_null=True)
    pay_at_close = serializers.IntegerField(allow_null=True)
    moderator_pay = serializers.IntegerField(allow_null=True)


class ShiftListSerializer(serializers.Serializer[Any]):
    results = ShiftOutputSerializer(many=True)


def _roster_data(found: selectors.Roster) -> dict[str, Any]:
    return {
        "roster": [
            {
                "member": r.entry.membership_id,
                "handle": r.handle,
                "signed_up_at": r.entry.signed_up_at,
            }
            for r in found.rows
        ],
        "schedule": [
            {
                "week": s.label,
                "member": s.membership_id,
                "handle": s.handle,
                "fixed": s.fixed,
                "pinned": s.pinned,
            }
            for s in found.schedule
        ],
    }


def swap_data(swap: SwapRequest) -> dict[str, Any]:
    return {
        "id": swap.pk,
        "state": swap.state,
        "requester": swap.requester_id,
        "requester_week": weeks.label(swap.requester_week),
        "responder": swap.responder_id,
        "responder_week": weeks.label(swap.responder_week),
        "created_at": swap.created_at,
        "decided_at": swap.decided_at,
    }


class RosterView(APIView):
    @extend_schema(operation_id="roster_read", responses={200: RosterOutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """The roster in sign-up order and the published schedule (members)."""
        viewer = access.access_roster(user=request.user, slug=slug)
        return Response(_roster_data(selectors.roster(community=viewer.community)))

    @extend_schema(operation_id="roster_sign_up", request=None, responses={201: SignedUpSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Sign up to moderate, at the end of the roster (active members)."""
        viewer = access.access_roster(user=request.user, slug=slug)
        entry = services.roster_join(membership=viewer)
        return Response(
            {"member": entry.membership_id, "signed_up_at": entry.signed_up_at},
            status=status.HTTP_201_CREATED,
        )


class RosterMeView(APIView):
    @extend_schema(operation_id="roster_withdraw", responses={204: None, **errors(400)})
    def delete(self, request: Request, slug: str) -> Response:
        """Withdraw from the roster; later shifts move up."""
        viewer = access.access_roster(user=request.user, slug=slug)
        services.roster_leave(membership=viewer)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class RosterRemoveView(APIView):
    @extend_schema(operation_id="roster_remove", request=ReasonSerializer, responses={204: None})
    def post(self, request: Request, slug: str, member_id: int) -> Response:
        """Remove a moderator from the roster, with a reason (organisers)."""
        organiser = member_access.access_organiser(user=request.user, slug=slug)
        moderator = (
            Membership.objects.select_related("profile", "community")
            .filter(community=organiser.community, pk=member_id)
            .first()
        )
        if moderator is None:
            raise Http404(_("No such member."))
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.roster_remove(
            organiser=organiser, membership=moderator, reason=data.validated_data["reason"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SwapInputSerializer(serializers.Serializer[Any]):
    requester_week = serializers.CharField(max_length=10)
    responder = serializers.IntegerField()
    responder_week = serializers.CharField(max_length=10)


class SwapListView(APIView):
    @extend_schema(operation_id="swaps_list", responses={200: SwapListSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """My swap requests waiting for an answer, asked and received."""
        viewer = access.access_roster(user=request.user, slug=slug)
        found = selectors.roster(community=viewer.community, viewer=viewer)
        return Response(
            {
                "incoming": [swap_data(s) for s in found.incoming],
                "outgoing": [swap_data(s) for s in found.outgoing],
            }
        )

    @extend_schema(
        operation_id="swap_request",
        request=SwapInputSerializer,
        responses={201: SwapOutputSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Ask another moderator to swap two shifts to come."""
        viewer = access.access_roster(user=request.user, slug=slug)
        data = SwapInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        swap = services.swap_request(
            requester=viewer,
            requester_week=data.validated_data["requester_week"],
            responder_id=data.validated_data["responder"],
            responder_week=data.validated_data["responder_week"],
        )
        return Response(swap_data(swap), status=status.HTTP_201_CREATED)


class SwapAnswerView(APIView):
    accept = True

    @extend_schema(request=None, responses={200: SwapOutputSerializer})
    def post(self, request: Request, slug: str, swap_id: int) -> Response:
        """Accept (both weeks are pinned, swapped) or decline a swap asked of me."""
        viewer = access.access_roster(user=request.user, slug=slug)
        swap = services.swap_answer(responder=viewer, swap_id=swap_id, accept=self.accept)
        return Response(swap_data(swap))


class SwapAcceptView(SwapAnswerView):
    accept = True


class SwapDeclineView(SwapAnswerView):
    accept = False


class PayAdjustSerializer(serializers.Serializer[Any]):
    pay = serializers.IntegerField()
    reason = serializers.CharField(max_length=500)


class ShiftPayView(APIView):
    @extend_schema(
        operation_id="moderator_pay_adjust",
        request=PayAdjustSerializer,
        responses={200: PayAdjustedSerializer},
    )
    def post(self, request: Request, slug: str, week: str) -> Response:
        """Set a closed week's moderator pay (0 ≤ pay ≤ that week's operations budget) with a
        reason (organisers, two factors); the difference enters this week's budget."""
        organiser = member_access.access_money(request=request, slug=slug)
        community = organiser.community
        try:
            start = weeks.parse(community, week)
        except ValidationError:
            raise Http404(_("Write a week as 2026-W48.")) from None
        shift = Shift.objects.filter(community=community, week=start).first()
        if shift is None:
            raise Http404(_("That week has no shift."))
        data = PayAdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adjustment = services.pay_adjust(
            organiser=organiser,
            shift=shift,
            pay=data.validated_data["pay"],
            reason=data.validated_data["reason"],
        )
        return Response(
            {
                "week": weeks.label(shift.week),
                "member": shift.moderator_id,
                "pay_before": adjustment.pay_before,
                "moderator_pay": adjustment.pay_after,
                "entered_week": weeks.label(adjustment.week),
                "reason": adjustment.reason,
            }
        )


class ShiftListView(APIView):
    @extend_schema(operation_id="shifts_list", responses={200: ShiftListSerializer})
    def get(self, request: Request, slug: str) -> Response:
        """Fixed shifts, newest first, with KPIs and pay: every shift for organisers, one's
        own for a moderator."""
        viewer = access.access_roster(user=request.user, slug=slug)
        rows = selectors.shift_rows(community=viewer.community)
        if not viewer.is_organiser:
            rows = [r for r in rows if r.shift.moderator_id == viewer.pk]
        return Response(
            {
                "results": [
                    {
                        "week": r.label,
                        "member": r.shift.moderator_id,
                        "handle": r.handle,
                        "pinned": r.shift.pinned,
                        "kpis": {
                            "answerers": r.shift.answerers,
                            "answers": r.shift.answers,
                            "quality": r.quality,
                            "digest_on_time": r.shift.digest_on_time,
                        }
                        if r.shift.is_computed
                        else None,
                        "operations_budget": r.shift.operations_budget,
                        "pay_at_close": r.shift.pay_at_close,
                        "moderator_pay": r.shift.pay,
                    }
                    for r in rows
                ]
            }
        )
