"""REST API routes, mounted at ``/api/`` (names are namespaced ``api:``)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from animate.api import assets, generations

app_name = "api"

urlpatterns = [
    path("assets/", assets.AssetListApi.as_view(), name="asset-list"),
    path("assets/<int:pk>/", assets.AssetDetailApi.as_view(), name="asset-detail"),
    path("quote/", generations.QuoteApi.as_view(), name="quote"),
    path("generations/", generations.GenerationListApi.as_view(), name="generation-list"),
    path("generations/<int:pk>/", generations.GenerationDetailApi.as_view(), name="generation-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
