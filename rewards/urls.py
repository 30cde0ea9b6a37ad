from django.urls import path

from rewards import views, weekly_views
from rewards.stripe import views as stripe_views

app_name = "rewards"

urlpatterns = [
    path("c/<slug:slug>/fund/", views.fund_page, name="fund"),
    # The weekly cycle: results, the archive, the leaderboard, fair play, payouts, earnings.
    path("c/<slug:slug>/results/", weekly_views.archive, name="archive"),
    path("c/<slug:slug>/week/<str:label>/results/", weekly_views.week_results, name="results"),
    path("c/<slug:slug>/leaderboard/", weekly_views.leaderboard, name="leaderboard"),
    path("c/<slug:slug>/week/<str:label>/fair-play/", weekly_views.fair_play, name="fair_play"),
    path("c/<slug:slug>/prizes/<int:prize_id>/void/", weekly_views.prize_void, name="prize_void"),
    path("c/<slug:slug>/payouts/", weekly_views.payouts_page, name="payouts"),
    path(
        "c/<slug:slug>/payouts/batches/<int:batch_id>.csv",
        weekly_views.batch_export,
        name="payout_batch_export",
    ),
    path("c/<slug:slug>/earnings/", weekly_views.earnings_page, name="earnings"),
    path("c/<slug:slug>/earnings/connect/", weekly_views.connect, name="connect"),
    path("c/<slug:slug>/ledger/", views.ledger_page, name="ledger"),
    path("c/<slug:slug>/ledger/weeks/", views.statements_page, name="statements"),
    path("c/<slug:slug>/ledger/export.csv", views.ledger_export, name="ledger_export"),
    path("c/<slug:slug>/payments/", views.payments_page, name="payments"),
    path("c/<slug:slug>/payments/new/", views.payment_new, name="payment_new"),
    path(
        "c/<slug:slug>/payments/<int:payment_id>/reverse/",
        views.payment_reverse,
        name="payment_reverse",
    ),
    # Paying through Stripe Checkout (rewards.stripe.views).
    path(
        "c/<slug:slug>/fund/subscription/cancel/",
        stripe_views.subscription_cancel,
        name="subscription_cancel",
    ),
    path(
        "c/<slug:slug>/fund/subscription/payment-method/",
        stripe_views.subscription_payment_method,
        name="subscription_payment_method",
    ),
    path("c/<slug:slug>/join/", stripe_views.join, name="join"),
    path("c/<slug:slug>/answers/<int:answer_id>/tip/", stripe_views.tip, name="tip"),
    path(
        "c/<slug:slug>/checkout/<int:checkout_id>/done/",
        stripe_views.checkout_done,
        name="checkout_done",
    ),
    path(
        "c/<slug:slug>/checkout/<int:checkout_id>/cancelled/",
        stripe_views.checkout_cancelled,
        name="checkout_cancelled",
    ),
]
