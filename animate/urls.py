"""The pages and their routes, one block per surface (the REST API lives in ``animate.api.urls``).

Each block's views live in the ``animate.views`` module of the same name.
"""

from django.urls import path

from animate.views import create, generations, media

urlpatterns = [
    # create: upload & preview, quote, submit
    path("", create.create, name="create"),
    path("assets/upload/", create.asset_upload, name="asset-upload"),
    path("quote/", create.quote, name="quote"),
    path("generations/new/", create.generation_create, name="generation-create"),
    # generations: a creator's runs and one run's result page
    path("generations/", generations.generation_list, name="generation-list"),
    path("generations/<int:pk>/", generations.generation_detail, name="generation-detail"),
    # media: team members' files, and signed single-asset URLs for Runware
    path("m/assets/<int:pk>/file", media.asset_file, name="media-asset"),
    path("m/assets/<int:pk>/poster", media.asset_poster, name="media-asset-poster"),
    path("m/outputs/<int:pk>/file", media.output_file, name="media-output"),
    path("m/outputs/<int:pk>/poster", media.output_poster, name="media-output-poster"),
    path("m/signed/<str:token>/<str:filename>", media.signed_asset_file, name="media-signed"),
]
