from django.urls import path

from rewards import stripe_views, views

app_name = "rewards"

urlpatterns = [
    path("c/<slug:slug>/fund/", views.fund_page, name="fund"),
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
    # Paying through Stripe Checkout (rewards.stripe_views).
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
