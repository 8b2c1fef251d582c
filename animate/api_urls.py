"""REST API routes, mounted at ``/api/`` (names are namespaced ``api:``)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from animate import api

app_name = "api"

urlpatterns = [
    path("assets/", api.AssetListApi.as_view(), name="asset-list"),
    path("assets/<int:pk>/", api.AssetDetailApi.as_view(), name="asset-detail"),
    path("quote/", api.QuoteApi.as_view(), name="quote"),
    path("generations/", api.GenerationListApi.as_view(), name="generation-list"),
    path("generations/<int:pk>/", api.GenerationDetailApi.as_view(), name="generation-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
