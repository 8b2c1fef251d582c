from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from animate.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
if settings.RUNWARE_SANDBOX:
    urlpatterns.append(path("sandbox/", include("animate.runware.sandbox.urls")))
