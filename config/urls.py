from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from config import views
from mechanisms import media as media_views
from mechanisms import views as abuse_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # /healthz and /readyz: config.middleware.HealthCheckMiddleware answers them before routing.
    # Outside the language prefix: one challenge endpoint whatever the page's language.
    path("abuse/challenge", abuse_views.pow_challenge, name="abuse_challenge"),
    # The API, outside the language prefix: its texts carry every language at once.
    path("api/v1/", include("config.api.urls")),
    # Mail providers' bounce and complaint webhooks (signed; outside the language prefix).
    path("email/bounces/", include("mechanisms.bounce_urls")),
    # Campaign images stored as local files (mechanisms.media): one language for all.
    path("media/images/<str:name>", media_views.image_file, name="image_file"),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("p/", include("petitions.urls")),
    path("letters/", include("letters.urls")),
    # An organization's workspace: its petitions' dashboards (before accounts' organization pages).
    path("organizations/<slug:organization>/petitions/", include("petitions.dashboard_urls")),
    path("organizations/<slug:organization>/supporters/", include("petitions.supporter_urls")),
    path("organizations/<slug:organization>/letters/", include("letters.dashboard_urls")),
    path("organizations/<slug:organization>/campaigns/", include("petitions.drafting.urls")),
    path("organizations/<slug:organization>/paper/", include("petitions.paper_urls")),
    path("", include("accounts.urls")),
)
