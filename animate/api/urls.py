"""REST API routes, mounted at ``/api/`` (names are namespaced ``api:``)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from animate.api import assets, boards, generations, outputs, review, shares

app_name = "api"

urlpatterns = [
    path("assets/", assets.AssetListApi.as_view(), name="asset-list"),
    path("assets/<int:pk>/", assets.AssetDetailApi.as_view(), name="asset-detail"),
    path("quote/", generations.QuoteApi.as_view(), name="quote"),
    path("generations/", generations.GenerationListApi.as_view(), name="generation-list"),
    path("generations/<int:pk>/", generations.GenerationDetailApi.as_view(), name="generation-detail"),
    path("outputs/", outputs.OutputListApi.as_view(), name="output-list"),
    path("outputs/<int:pk>/", outputs.OutputDetailApi.as_view(), name="output-detail"),
    path("outputs/<int:pk>/verdicts/", review.VerdictApi.as_view(), name="output-verdicts"),
    path("outputs/<int:pk>/comments/", review.CommentListApi.as_view(), name="output-comments"),
    path("outputs/<int:pk>/star/", review.StarApi.as_view(), name="output-star"),
    path("comments/<int:pk>/", review.CommentDetailApi.as_view(), name="comment-detail"),
    path("archive/", outputs.ArchiveApi.as_view(), name="archive"),
    path("boards/", boards.BoardListApi.as_view(), name="board-list"),
    path("boards/<int:pk>/", boards.BoardDetailApi.as_view(), name="board-detail"),
    path("boards/<int:pk>/items/", boards.BoardItemsApi.as_view(), name="board-items"),
    path("boards/<int:pk>/items/<int:output_pk>/", boards.BoardItemDetailApi.as_view(), name="board-item"),
    path("shares/", shares.ShareListApi.as_view(), name="share-list"),
    path("shares/<int:pk>/", shares.ShareDetailApi.as_view(), name="share-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
