"""The sandbox's endpoints, mounted at /sandbox/ by project/urls.py and at / and /sandbox/ by
standalone_urls (the ``runware_sandbox`` command). The API is ``v1``, like Runware's."""

from django.urls import path

from animate.runware.sandbox import views

urlpatterns = [
    path("v1", views.api),
    path("media/<str:name>", views.media),
]
