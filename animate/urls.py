"""The creator's pages and their JSON endpoints (the REST API lives in ``animate.api_urls``)."""

from django.urls import path

from animate import views

urlpatterns = [
    path("", views.create, name="create"),
    path("assets/upload/", views.asset_upload, name="asset-upload"),
    path("quote/", views.quote, name="quote"),
    path("generations/", views.generation_list, name="generation-list"),
    path("generations/new/", views.generation_create, name="generation-create"),
    path("generations/<int:pk>/", views.generation_detail, name="generation-detail"),
]
