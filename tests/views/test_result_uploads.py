"""PUT /r/uploads/<token>: one PUT per token, a whole readable video within the size limit, else refused."""

from datetime import timedelta

import httpx
import pytest
from django.core.files.storage import default_storage
from django.urls import include, path, reverse
from django.utils import timezone

from animate.models import Generation, ResultUpload
from animate.samples import make_driving_video
from animate.services import result_uploads

urlpatterns = [path("", include("animate.urls"))]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def _reachable(settings):
    settings.PUBLIC_BASE_URL = "https://studio.example.com"
    settings.PUBLIC_BASE_URL_REACHABLE = True


@pytest.fixture
def generation(team, member, image_asset, video_asset) -> Generation:
    return Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="submitted"
    )


@pytest.fixture
def endpoint(generation) -> str:
    url = result_uploads.result_upload_url(generation=generation)
    assert url is not None and url.startswith("https://studio.example.com/r/uploads/")
    return url.removeprefix("https://studio.example.com")


@pytest.fixture
def clip(tmp_path) -> bytes:
    return make_driving_video(tmp_path / "result.mp4", seconds=1.0, fps=8, width=160, height=240).read_bytes()


def _put(client, url: str, body: bytes, **extra):
    return client.generic("PUT", url, body, content_type="video/mp4", **extra)


def test_a_video_put_once_is_stored_with_its_size_and_checksum(client, generation, endpoint, clip):
    response = _put(client, endpoint, clip)
    assert response.status_code == 201, response.content
    upload = ResultUpload.objects.get(generation=generation)
    assert (upload.status, upload.size) == ("received", len(clip))
    assert response.json() == {"size": len(clip), "sha256": upload.sha256}
    with default_storage.open(upload.name, "rb") as stored:
        assert stored.read() == clip


def test_a_second_put_is_refused_and_changes_nothing(client, generation, endpoint, clip):
    assert _put(client, endpoint, clip).status_code == 201
    again = _put(client, endpoint, b"\x00" * 100)
    assert again.status_code == 409
    assert again.json() == {
        "errors": {"file": ["This upload URL has been used already; each takes one PUT."]}
    }
    upload = ResultUpload.objects.get(generation=generation)
    with default_storage.open(upload.name, "rb") as stored:
        assert stored.read() == clip


def test_garbage_is_refused_with_the_reason_and_uses_the_url_up(client, generation, endpoint, clip):
    response = _put(client, endpoint, b"not a video at all " * 100)
    assert response.status_code == 422
    assert response.json()["errors"]["file"][0].startswith("Result video: the file is not a video")
    upload = ResultUpload.objects.get(generation=generation)
    assert upload.status == "rejected" and not default_storage.exists(upload.name)
    assert _put(client, endpoint, clip).status_code == 409


def test_a_body_over_the_limit_or_empty_is_refused_before_the_url_is_used(
    client, generation, endpoint, clip, settings
):
    upload = ResultUpload.objects.get(generation=generation)
    ResultUpload.objects.filter(pk=upload.pk).update(max_bytes=len(clip) - 1)
    too_big = _put(client, endpoint, clip)
    assert too_big.status_code == 413 and "at most" in too_big.json()["errors"]["file"][0]
    empty = _put(client, endpoint, b"", CONTENT_LENGTH="0")
    assert empty.status_code == 400 and "empty" in empty.json()["errors"]["file"][0]
    upload.refresh_from_db()
    assert upload.status == "open"


def test_a_forged_or_expired_token_is_refused(client, generation, endpoint, clip):
    forged = reverse("result-upload", kwargs={"token": "0f6e5a1e-0000-4000-8000-000000000000:forged"})
    assert _put(client, forged, clip).status_code == 404
    ResultUpload.objects.filter(generation=generation).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = _put(client, endpoint, clip)
    assert expired.status_code == 410


def test_only_put_is_allowed(client, endpoint):
    assert client.get(endpoint).status_code == 405
    assert client.post(endpoint, b"x", content_type="video/mp4").status_code == 405


def test_no_endpoint_for_several_results_or_an_unreachable_base_url(
    settings, team, member, image_asset, video_asset
):
    several = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, number_results=2
    )
    assert result_uploads.result_upload_url(generation=several) is None
    settings.PUBLIC_BASE_URL_REACHABLE = False
    one = Generation.objects.create(team=team, created_by=member, image=image_asset, video=video_asset)
    assert result_uploads.result_upload_url(generation=one) is None
    assert not ResultUpload.objects.exists()


def test_every_submit_attempt_is_given_the_same_url(generation, endpoint):
    assert result_uploads.result_upload_url(generation=generation).endswith(endpoint)
    assert ResultUpload.objects.count() == 1


def test_the_asgi_handler_refuses_a_body_over_the_output_limit_before_reading_it(
    live_server, generation, settings, clip
):
    settings.ANIMATE_MAX_OUTPUT_BYTES = 1000
    ResultUpload.objects.all().delete()
    url = result_uploads.result_upload_url(generation=generation)
    response = httpx.put(url.replace(settings.PUBLIC_BASE_URL, live_server.url, 1), content=clip)
    assert response.status_code == 413
    assert ResultUpload.objects.get().status == "open"
