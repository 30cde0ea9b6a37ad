from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularSwaggerView

from community import views
from community.api import not_found as api_not_found
from community.schema import SchemaView
from members import views as member_views
from members.scoped_admin import moderation_site
from members.webhooks import email_tracking
from rewards.stripe.views import stripe_webhook

# Staff sign in through allauth (rate limits, two-factor), not the admin's own form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = _("Community administration")
admin.site.site_title = _("Community administration")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("payments/stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("accounts/", include("allauth.urls")),
    # The language menu; the signed-in person's choice is also the language of their e-mails.
    path("i18n/setlang/", member_views.language_set, name="set_language"),
    path("admin/", admin.site.urls),
    path("manage/", moderation_site.urls),
    path("api/v1/", include("members.api_urls")),
    path("api/v1/", include("questions.api_urls")),
    path("api/v1/", include("rewards.api_urls")),
    path("api/v1/", include("rotation.api_urls")),
    path("api/v1/", include("questions.digests.api_urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404, not the portal's HTML page.
    re_path(r"^api/", api_not_found, name="api-not-found"),
    # A community's front page: the member's home or the landing page (community.views);
    # it answers before members.urls' "members:landing", whose name links to the same path.
    path("c/<slug:slug>/", views.community_home, name="community_home"),
    path("", include("members.urls")),
    path("", include("questions.urls")),
    path("", include("rewards.urls")),
    path("", include("rotation.urls")),
    path("", include("questions.digests.urls")),
    # The e-mail provider's tracking webhook (bounces, complaints), through anymail.
    path("anymail/<str:esp>/tracking/", email_tracking, name="email_tracking"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
