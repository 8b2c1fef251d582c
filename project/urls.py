from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from animate.health import healthz
from animate.webhooks import RunwareWebhookView

urlpatterns = [
    # Answered by animate.health.HealthCheckMiddleware before this resolver; named here for reverse().
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "hooks/runware/<int:generation_id>/<str:secret>/",
        RunwareWebhookView.as_view(),
        name="runware-webhook",
    ),
    path("api/", include("animate.api.urls")),
    path("", include("animate.urls")),
]
if settings.RUNWARE_SANDBOX:
    urlpatterns.append(path("sandbox/", include("animate.runware.sandbox.urls")))
