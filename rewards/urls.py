from django.urls import path

from rewards import views

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
]
