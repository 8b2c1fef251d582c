from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from animate.health import healthz
from animate.webhooks import runware_webhook

urlpatterns = [
    # Answered by animate.health.HealthCheckMiddleware before this resolver; named here for reverse().
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "hooks/runware/<int:generation_id>/<str:secret>/",
        runware_webhook,
        name="runware-webhook",
    ),
    path("api/", include("animate.api.urls")),
    path("", include("animate.urls")),
]
if settings.RUNWARE_SANDBOX:
    urlpatterns.append(path("sandbox/", include("animate.runware.sandbox.urls")))


def not_found(request, exception=None):
    """404s of the API (an id that is not a number, a path that does not exist) in the API's error shape."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"errors": {"detail": ["No such URL in the API."]}}, status=404)
    return page_not_found(request, exception)


handler404 = not_found
