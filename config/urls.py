from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import notifications

from .health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("notifications/", notifications, name="notifications"),
    path("", include("spatial.urls")),
    path("", include("exchange.urls")),
    path("", include("nrb.urls")),
    path("", include("imagery.urls")),
    path("", include("publicity.urls")),
    path("", include("contracts.urls")),
    path("", include("surveys.urls")),
    path("", include("approvals.urls")),
    path("", include("frontend_map.urls")),
]
