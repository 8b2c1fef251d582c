"""URLconf of the standalone sandbox (``manage.py runware_sandbox``): the same views at the root, as
Runware's own ``/v1``, and under ``/sandbox/``, so a URL that works embedded works here too."""

from django.urls import include, path

urlpatterns = [
    path("", include("animate.runware.sandbox.urls")),
    path("sandbox/", include("animate.runware.sandbox.urls")),
]
