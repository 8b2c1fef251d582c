"""Media over HTTP: members get Range-capable streams, everyone else a 404; signed URLs serve one asset."""

import time
import uuid
from pathlib import Path

import pytest
from django.core import signing
from django.core.files import File
from django.urls import include, path, reverse

from animate.models import Asset, Generation, Output
from animate.samples import make_character_png, make_driving_video
from animate.services.media import asset_create, output_store
from animate.services.signed_media import asset_signed_url

urlpatterns = [path("", include("animate.urls"))]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://studio.example.com"
    return settings.MEDIA_ROOT


def upload(team, user, kind: str, source: Path, name: str) -> Asset:
    with source.open("rb") as handle:
        return asset_create(team=team, user=user, kind=kind, uploaded_file=File(handle, name=name))


@pytest.fixture
def video(team, member, tmp_path) -> Asset:
    clip = make_driving_video(tmp_path / "clip.mp4", seconds=1, fps=16, width=320, height=480)
    return upload(team, member, "video", clip, "My Dance Take 3.MP4")


@pytest.fixture
def image(team, member, tmp_path) -> Asset:
    return upload(
        team, member, "image", make_character_png(tmp_path / "hero.png", width=240, height=360), "hero.png"
    )


@pytest.fixture
def output(team, member, image, video, tmp_path) -> Output:
    generation = Generation.objects.create(team=team, created_by=member, image=image, video=video)
    result = make_driving_video(tmp_path / "result.webm", seconds=1, fps=8, codec="libvpx-vp9")
    return output_store(
        generation=generation, video_uuid=uuid.uuid4(), path=result, content_type="video/webm"
    )


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def file_bytes(asset_or_output) -> bytes:
    return Path(asset_or_output.file.path).read_bytes()


# --- whole files ---------------------------------------------------------------------------------


def test_member_gets_the_whole_video_with_streaming_headers(member_client, video):
    data = file_bytes(video)

    response = member_client.get(reverse("media-asset", args=[video.pk]))

    assert response.status_code == 200
    assert response.streaming
    assert body_of(response) == data
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] == f'"{video.sha256}"'
    assert "private" in response["Cache-Control"]
    assert response["Content-Disposition"] == 'inline; filename="My Dance Take 3.mp4"'


def test_download_query_asks_for_an_attachment(member_client, video):
    response = member_client.get(reverse("media-asset", args=[video.pk]), {"download": "1"})

    assert response["Content-Disposition"] == 'attachment; filename="My Dance Take 3.mp4"'


def test_member_gets_posters_and_results(member_client, video, output):
    poster = member_client.get(reverse("media-asset-poster", args=[video.pk]))
    result = member_client.get(reverse("media-output", args=[output.pk]))
    result_poster = member_client.get(reverse("media-output-poster", args=[output.pk]))

    assert (poster.status_code, poster["Content-Type"]) == (200, "image/jpeg")
    assert body_of(poster) == Path(video.poster.path).read_bytes()
    assert (result.status_code, result["Content-Type"]) == (200, "video/webm")
    assert body_of(result) == file_bytes(output)
    assert result["Content-Disposition"].endswith(
        f'filename="animate-{output.generation_id}-{output.video_uuid}.webm"'
    )
    assert body_of(result_poster)[:3] == b"\xff\xd8\xff"


def test_head_sends_the_headers_without_a_body(member_client, video):
    response = member_client.head(reverse("media-asset", args=[video.pk]))

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(file_bytes(video)))
    assert response["Accept-Ranges"] == "bytes"
    assert response.content == b""


def test_a_matching_if_none_match_gets_304(member_client, video):
    response = member_client.get(
        reverse("media-asset", args=[video.pk]), HTTP_IF_NONE_MATCH=f'"{video.sha256}"'
    )

    assert response.status_code == 304


# --- ranges --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, None),
        ("bytes=-50", -50, None),
        ("bytes=10-10", 10, 10),
        ("bytes=1000-999999999", 1000, None),
        ("bytes=-999999999", 0, None),
    ],
)
def test_a_single_range_gets_206_with_exactly_those_bytes(member_client, video, header, first, last):
    data = file_bytes(video)
    size = len(data)
    start = first if first >= 0 else size + first
    end = last if last is not None else size - 1

    response = member_client.get(reverse("media-asset", args=[video.pk]), HTTP_RANGE=header)

    assert response.status_code == 206
    assert body_of(response) == data[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Content-Type"] == "video/mp4"


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{size}", "bytes=-0"])
def test_an_unsatisfiable_range_gets_416_with_the_size(member_client, video, header):
    size = len(file_bytes(video))

    response = member_client.get(reverse("media-asset", args=[video.pk]), HTTP_RANGE=header.format(size=size))

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-1", "bytes=0-1,4-5", "bytes=-", "bytes=a-b"])
def test_a_malformed_or_multiple_range_is_ignored_and_the_whole_file_sent(member_client, video, header):
    response = member_client.get(reverse("media-asset", args=[video.pk]), HTTP_RANGE=header)

    assert response.status_code == 200
    assert body_of(response) == file_bytes(video)


def test_head_with_a_range_reports_the_partial_length(member_client, video):
    size = len(file_bytes(video))

    response = member_client.head(reverse("media-asset", args=[video.pk]), HTTP_RANGE="bytes=0-9")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-9/{size}"
    assert response["Content-Length"] == "10"


def test_if_range_with_a_stale_etag_sends_the_whole_new_file(member_client, video):
    url = reverse("media-asset", args=[video.pk])

    stale = member_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"an-older-version"')
    fresh = member_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{video.sha256}"')

    assert stale.status_code == 200
    assert body_of(stale) == file_bytes(video)
    assert fresh.status_code == 206


# --- who may see what ----------------------------------------------------------------------------


def media_urls(video: Asset, output: Output) -> list[str]:
    return [
        reverse("media-asset", args=[video.pk]),
        reverse("media-asset-poster", args=[video.pk]),
        reverse("media-output", args=[output.pk]),
        reverse("media-output-poster", args=[output.pk]),
        reverse("media-output-original", args=[output.pk]),
    ]


def test_another_teams_member_gets_404_for_every_media_url(client, outsider, video, output):
    client.force_login(outsider)

    for url in media_urls(video, output):
        assert client.get(url).status_code == 404
        assert client.get(url, HTTP_RANGE="bytes=0-1").status_code == 404
        assert client.head(url).status_code == 404


def test_anonymous_visitors_get_404_not_a_login_redirect(client, video, output):
    for url in media_urls(video, output):
        assert client.get(url).status_code == 404


def test_a_missing_id_looks_the_same_as_a_forbidden_one(client, outsider, video):
    client.force_login(outsider)

    forbidden = client.get(reverse("media-asset", args=[video.pk]))
    missing = client.get(reverse("media-asset", args=[video.pk + 1000]))

    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content


def test_every_role_in_the_team_may_view(client, reviewer, admin, video):
    for user in (reviewer, admin):
        client.force_login(user)
        assert client.get(reverse("media-asset", args=[video.pk])).status_code == 200


def test_media_urls_answer_only_get_and_head(member_client, video):
    assert member_client.post(reverse("media-asset", args=[video.pk])).status_code == 405


def test_an_image_without_a_poster_file_gets_404(member_client, image):
    Asset.objects.filter(pk=image.pk).update(poster="")

    assert member_client.get(reverse("media-asset-poster", args=[image.pk])).status_code == 404


# --- signed URLs ---------------------------------------------------------------------------------


def test_signed_url_is_absolute_under_the_public_base_url(video):
    url = asset_signed_url(asset=video)

    assert url.startswith("https://studio.example.com/m/signed/")
    assert url.endswith("/video.mp4")


def test_signed_url_serves_the_asset_without_a_session_with_ranges(client, video):
    url = asset_signed_url(asset=video).removeprefix("https://studio.example.com")
    data = file_bytes(video)

    whole = client.get(url)
    part = client.get(url, HTTP_RANGE="bytes=4-11")

    assert whole.status_code == 200
    assert body_of(whole) == data
    assert whole["Content-Type"] == "video/mp4"
    assert "no-store" in whole["Cache-Control"]
    assert part.status_code == 206
    assert body_of(part) == data[4:12]


def test_signed_url_expires(client, video, monkeypatch):
    url = asset_signed_url(asset=video, expires_in=60).removeprefix("https://studio.example.com")
    later = time.time() + 61
    monkeypatch.setattr(signing.time, "time", lambda: later)

    assert client.get(url).status_code == 404


def test_a_forged_or_foreign_token_gets_404(client, video, image):
    url = asset_signed_url(asset=video).removeprefix("https://studio.example.com")
    token = url.split("/")[3]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    unsalted = signing.TimestampSigner().sign_object({"a": image.pk, "h": image.sha256[:32], "t": 3600})
    other_asset = signing.TimestampSigner(salt="animate.media.signed-asset").sign_object(
        {"a": image.pk, "h": video.sha256[:32], "t": 3600}
    )

    for bad in (tampered, unsalted, other_asset, "garbage"):
        assert client.get(reverse("media-signed", args=[bad, "video.mp4"])).status_code == 404


def test_a_signed_url_stops_working_when_its_asset_is_gone(client, video):
    url = asset_signed_url(asset=video).removeprefix("https://studio.example.com")
    Asset.objects.filter(pk=video.pk).delete()

    assert client.get(url).status_code == 404


# --- ASGI ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_a_range_is_streamed_by_an_async_iterator(async_client, video):
    url = reverse("media-asset", args=[video.pk])
    await async_client.aforce_login(video.uploaded_by)
    data = file_bytes(video)

    response = await async_client.get(url, headers={"range": "bytes=2-65"})

    assert response.status_code == 206
    assert response.is_async
    assert b"".join([chunk async for chunk in response.streaming_content]) == data[2:66]


def test_an_api_token_opens_the_media_urls_the_api_hands_out(client, member, outsider, video):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=member).key
    outsider_token = Token.objects.create(user=outsider).key
    url = reverse("media-asset", kwargs={"pk": video.pk})
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {outsider_token}").status_code == 404
    assert client.get(url, HTTP_AUTHORIZATION="Token not-a-token").status_code == 404


def test_a_result_with_the_driving_audio_serves_it_and_runware_s_original_beside_it(
    member_client, client, outsider, team, member, image, tmp_path
):
    from animate.services.remux import output_audio_attach

    clip = make_driving_video(tmp_path / "talk.mp4", seconds=1, fps=8, width=96, height=128, with_audio=True)
    talking = upload(team, member, "video", clip, "talk.mp4")
    generation = Generation.objects.create(
        team=team, created_by=member, image=image, video=talking, keep_audio=True
    )
    result = make_driving_video(tmp_path / "result.mp4", seconds=1, fps=8, width=96, height=128)
    provider = result.read_bytes()
    output = output_store(
        generation=generation, video_uuid=uuid.uuid4(), path=result, content_type="video/mp4"
    )
    output = output_audio_attach(output=output)
    assert output.audio == Output.Audio.KEPT

    played = member_client.get(reverse("media-output", args=[output.pk]))
    original = member_client.get(reverse("media-output-original", args=[output.pk]) + "?download=1")

    assert body_of(played) == file_bytes(output) != provider
    assert played["ETag"] == f'"{output.sha256}"'
    assert (original.status_code, original["Content-Type"]) == (200, "video/mp4")
    assert body_of(original) == provider
    assert original["ETag"] == f'"{output.original_sha256}"'
    assert original["Content-Disposition"].startswith("attachment")
    assert original["Content-Disposition"].endswith(
        f'filename="animate-{generation.pk}-{output.video_uuid}-runware.mp4"'
    )
    client.force_login(outsider)
    assert client.get(reverse("media-output-original", args=[output.pk])).status_code == 404


def test_a_result_without_a_separate_original_has_no_original_url(member_client, output):
    assert member_client.get(reverse("media-output-original", args=[output.pk])).status_code == 404
