"""Media in an S3 bucket (moto's server): uploads land in the bucket, media views check access first and
then redirect to a short-lived presigned GET, Runware gets presigned GETs as inputs."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from animate import storage as media_storage
from animate.models import Asset, Generation, Membership, Output
from animate.samples import make_character_png, make_driving_video
from animate.services import shares
from animate.services.media import asset_create, output_store
from animate.services.signed_media import asset_signed_url
from tests.s3kit import bucket_keys

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def presigns(monkeypatch) -> list[str]:
    """Every presigned GET made, in order (wrapping the real function)."""
    made: list[str] = []
    real = media_storage.presigned_get

    def counting(name, **kwargs):
        made.append(name)
        return real(name, **kwargs)

    monkeypatch.setattr(media_storage, "presigned_get", counting)
    return made


@pytest.fixture
def bucket_video(s3_media, team, member, tmp_path) -> Asset:
    clip = make_driving_video(tmp_path / "clip.mp4", seconds=1, fps=8, width=160, height=240)
    with clip.open("rb") as handle:
        return asset_create(
            team=team, user=member, kind="video", uploaded_file=File(handle, name="Take 3.mp4")
        )


@pytest.fixture
def bucket_output(s3_media, team, member, bucket_video, tmp_path) -> Output:
    image_path = make_character_png(tmp_path / "c.png", width=120, height=160)
    with image_path.open("rb") as handle:
        image = asset_create(team=team, user=member, kind="image", uploaded_file=File(handle, name="c.png"))
    generation = Generation.objects.create(
        team=team, created_by=member, image=image, video=bucket_video, status="receiving"
    )
    result = make_driving_video(tmp_path / "result.mp4", seconds=1, fps=8, width=160, height=240)
    return output_store(
        generation=generation,
        video_uuid="6f1b2c3d-0000-4000-8000-000000000001",
        path=result,
        content_type="video/mp4",
    )


def _fetch(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers)


def test_an_upload_through_the_page_lands_in_the_bucket_with_its_poster(
    s3_media, client, member, team, tmp_path
):
    client.force_login(member)
    clip = make_driving_video(tmp_path / "dance.mp4", seconds=1.0, fps=8, width=160, height=240)
    upload = SimpleUploadedFile("dance.mp4", clip.read_bytes(), content_type="video/mp4")
    response = client.post(reverse("api:asset-list"), {"kind": "video", "file": upload})
    assert response.status_code == 201, response.content
    asset = Asset.objects.get()
    keys = bucket_keys(s3_media, asset.file.storage.location)
    assert f"{asset.file.storage.location}/{asset.file.name}" in keys
    assert f"{asset.file.storage.location}/{asset.poster.name}" in keys
    assert not Path(asset.file.storage.location).exists()  # nothing written to a local media dir


def test_a_member_is_redirected_to_a_presigned_get_that_serves_the_bytes(
    client, member, bucket_video, presigns
):
    client.force_login(member)
    response = client.get(reverse("media-asset", kwargs={"pk": bucket_video.pk}))
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    url = response["Location"]
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["300"]  # ANIMATE_MEDIA_URL_SECONDS
    fetched = _fetch(url)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == bucket_video.sha256
    assert fetched.headers["content-type"] == "video/mp4"
    assert "Take 3.mp4" in fetched.headers["content-disposition"]
    # Players seek with Range: the bucket answers it.
    ranged = _fetch(url, Range="bytes=0-9")
    assert ranged.status_code == 206 and len(ranged.content) == 10
    assert presigns == [bucket_video.file.name]


def test_the_download_link_asks_the_bucket_for_an_attachment(client, member, bucket_video):
    client.force_login(member)
    url = client.get(reverse("media-asset", kwargs={"pk": bucket_video.pk}) + "?download=1")["Location"]
    assert _fetch(url).headers["content-disposition"].startswith("attachment")


def test_another_team_gets_404_and_no_presigned_url_is_ever_made(client, outsider, bucket_output, presigns):
    client.force_login(outsider)
    asset = bucket_output.generation.video
    for name, pk in [
        ("media-asset", asset.pk),
        ("media-asset-poster", asset.pk),
        ("media-output", bucket_output.pk),
        ("media-output-poster", bucket_output.pk),
    ]:
        response = client.get(reverse(name, kwargs={"pk": pk}))
        assert response.status_code == 404, name
        assert "Location" not in response
    client.logout()
    assert client.get(reverse("media-output", kwargs={"pk": bucket_output.pk})).status_code == 404
    assert presigns == []


def test_outputs_and_their_posters_redirect_to_the_bucket(client, member, bucket_output, presigns):
    client.force_login(member)
    video = client.get(reverse("media-output", kwargs={"pk": bucket_output.pk}))
    poster = client.get(reverse("media-output-poster", kwargs={"pk": bucket_output.pk}))
    assert video.status_code == poster.status_code == 302
    assert hashlib.sha256(_fetch(video["Location"]).content).hexdigest() == bucket_output.sha256
    assert _fetch(poster["Location"]).headers["content-type"] == "image/jpeg"
    assert presigns == [bucket_output.file.name, bucket_output.poster.name]


def test_a_share_link_redirects_to_the_bucket_only_for_its_own_output(
    client, member, bucket_output, presigns
):
    membership = Membership.objects.get(user=member)
    _, token = shares.share_create(membership=membership, output=bucket_output)
    response = client.get(reverse("share-media", args=[token, bucket_output.pk, "file"]))
    assert response.status_code == 302
    assert hashlib.sha256(_fetch(response["Location"]).content).hexdigest() == bucket_output.sha256
    assert (
        client.get(reverse("share-media", args=["not-a-token", bucket_output.pk, "file"])).status_code == 404
    )
    assert presigns == [bucket_output.file.name]


def test_runware_gets_a_presigned_get_of_the_bucket_as_its_input(bucket_video, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    url = asset_signed_url(asset=bucket_video, expires_in=600)
    assert url.startswith(bucket_video.file.storage.endpoint_url)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["600"]
    assert hashlib.sha256(_fetch(url).content).hexdigest() == bucket_video.sha256


def test_with_media_in_the_bucket_inputs_are_presigned_gets_even_when_the_base_url_is_private(
    bucket_video, settings
):
    from animate.runware.client import RunwareClient
    from animate.services.submission import input_reference

    settings.PUBLIC_BASE_URL_REACHABLE = False
    client = RunwareClient.from_settings()
    try:
        url = input_reference(asset=bucket_video, client=client)  # no mediaStorage upload is made
    finally:
        client.close()
    assert url.startswith(bucket_video.file.storage.endpoint_url) and "X-Amz-Signature=" in url
    assert hashlib.sha256(_fetch(url).content).hexdigest() == bucket_video.sha256


def test_the_signed_media_view_redirects_old_token_urls_to_the_bucket(client, bucket_video, settings):
    from animate.services import signed_media

    token = signed_media._signer().sign_object({"a": bucket_video.pk, "h": bucket_video.sha256[:32], "t": 60})
    response = client.get(reverse("media-signed", kwargs={"token": token, "filename": "video.mp4"}))
    assert response.status_code == 302
    assert hashlib.sha256(_fetch(response["Location"]).content).hexdigest() == bucket_video.sha256


def _csp_directives(environ: dict[str, str]) -> dict[str, list[str]]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'csp': settings.CONTENT_SECURITY_POLICY['DIRECTIVES'], "
        "'backend': settings.STORAGES['default']['BACKEND']}))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env |= {"DJANGO_SETTINGS_MODULE": "project.test_settings", **environ}
    out = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_content_security_policy_names_the_bucket_only_when_media_are_there(s3_server):
    on = _csp_directives(s3_server.environ())
    assert on["backend"] == "storages.backends.s3.S3Storage"
    for directive in ("img-src", "media-src", "connect-src"):
        assert s3_server.endpoint in on["csp"][directive], directive
    assert s3_server.endpoint not in on["csp"]["script-src"]
    off = _csp_directives({})
    assert off["backend"] == "django.core.files.storage.FileSystemStorage"
    assert all("127.0.0.1:" not in " ".join(values) for values in off["csp"].values())
