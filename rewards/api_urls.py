from django.urls import path

from rewards import api
from rewards.stripe import api as stripe_api

urlpatterns = [
    path("communities/<slug:slug>/payments/", api.PaymentListView.as_view(), name="api-payments"),
    path(
        "communities/<slug:slug>/payments/<int:payment_id>/reverse/",
        api.PaymentReverseView.as_view(),
        name="api-payment-reverse",
    ),
    path("communities/<slug:slug>/weeks/", api.WeekListView.as_view(), name="api-weeks"),
    path("communities/<slug:slug>/weeks/<str:week>/", api.WeekView.as_view(), name="api-week"),
    path(
        "communities/<slug:slug>/weeks/<str:week>/fair-play/",
        api.FairPlayView.as_view(),
        name="api-fair-play",
    ),
    path(
        "communities/<slug:slug>/leaderboard/",
        api.LeaderboardView.as_view(),
        name="api-leaderboard",
    ),
    path("prizes/<int:prize_id>/void/", api.PrizeVoidView.as_view(), name="api-prize-void"),
    path("communities/<slug:slug>/payouts/", api.PayoutListView.as_view(), name="api-payouts"),
    path("communities/<slug:slug>/earnings/", api.EarningsView.as_view(), name="api-earnings"),
    path("communities/<slug:slug>/ledger/", api.LedgerView.as_view(), name="api-ledger"),
    path(
        "communities/<slug:slug>/ledger/balances/",
        api.BalancesView.as_view(),
        name="api-ledger-balances",
    ),
    path(
        "communities/<slug:slug>/ledger/export/",
        api.LedgerExportView.as_view(),
        name="api-ledger-export",
    ),
    path(
        "communities/<slug:slug>/join/",
        stripe_api.JoinCheckoutView.as_view(),
        name="api-join-checkout",
    ),
    path(
        "communities/<slug:slug>/subscription/cancel/",
        stripe_api.SubscriptionCancelView.as_view(),
        name="api-subscription-cancel",
    ),
    path(
        "communities/<slug:slug>/subscription/payment-method/",
        stripe_api.SubscriptionPaymentMethodView.as_view(),
        name="api-subscription-payment-method",
    ),
    path(
        "answers/<int:answer_id>/tips/",
        stripe_api.TipCheckoutView.as_view(),
        name="api-tip-checkout",
    ),
    path(
        "checkouts/<int:checkout_id>/",
        stripe_api.CheckoutDetailView.as_view(),
        name="api-checkout",
    ),
]
