"""Media URLs; mount at the site root with ``path("", include("animate.media_urls"))``."""

from django.urls import path

from animate import media_views

urlpatterns = [
    path("m/assets/<int:pk>/file", media_views.asset_file, name="media-asset"),
    path("m/assets/<int:pk>/poster", media_views.asset_poster, name="media-asset-poster"),
    path("m/outputs/<int:pk>/file", media_views.output_file, name="media-output"),
    path("m/outputs/<int:pk>/poster", media_views.output_poster, name="media-output-poster"),
    path("m/signed/<str:token>/<str:filename>", media_views.signed_asset_file, name="media-signed"),
]
