from django.urls import path

from rotation import views

app_name = "rotation"

urlpatterns = [
    path("c/<slug:slug>/roster/", views.roster, name="roster"),
    path("c/<slug:slug>/roster/sign-up/", views.sign_up, name="sign_up"),
    path("c/<slug:slug>/roster/withdraw/", views.withdraw, name="withdraw"),
    path("c/<slug:slug>/roster/swaps/", views.swap_request, name="swap_request"),
    path(
        "c/<slug:slug>/roster/swaps/<int:swap_id>/<str:answer>/",
        views.swap_answer,
        name="swap_answer",
    ),
    path("c/<slug:slug>/roster/review/", views.review, name="review"),
    path("c/<slug:slug>/roster/<int:member_id>/remove/", views.remove, name="remove"),
    path("c/<slug:slug>/shifts/<str:label>/pay/", views.pay_adjust, name="pay_adjust"),
    path("c/<slug:slug>/duty/", views.console, name="console"),
    path("c/<slug:slug>/duty/<str:label>/", views.console, name="console_of"),
]
