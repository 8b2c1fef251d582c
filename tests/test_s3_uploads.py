"""Uploads into the bucket stream in bounded parts, and leave no temporary file behind, whatever happens."""

import os
import struct
import tracemalloc
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from animate.models import Asset
from animate.samples import make_driving_video
from animate.services.media import MediaRejected, asset_store
from tests.s3kit import bucket_keys

MB = 1024 * 1024


def padded_video(path: Path, megabytes: int) -> Path:
    """A real, probe-able clip made ``megabytes`` large by a trailing ``free`` box (players skip it)."""
    make_driving_video(path, seconds=1.0, fps=8, width=160, height=240)
    with path.open("ab") as handle:
        size = megabytes * MB
        handle.write(struct.pack(">I", size) + b"free")
        zeros = bytes(MB)
        left = size - 8
        while left > 0:
            handle.write(zeros[: min(left, MB)])
            left -= MB
    return path


@pytest.fixture
def temp_dir(tmp_path, monkeypatch, settings) -> Path:
    """Where every temporary file of the test goes, so that what is left behind can be seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


@pytest.mark.timeout(240)
def test_a_large_video_goes_to_the_bucket_in_bounded_memory(s3_media, team, member, tmp_path, temp_dir):
    source = padded_video(tmp_path / "big.mp4", 160)
    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            stored = asset_store(
                team=team, user=member, kind="video", uploaded_file=File(handle, name="big.mp4")
            )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    asset = stored.asset
    assert asset.size == source.stat().st_size > 160 * MB
    # Parts of 8 MB, two in flight, one read ahead (animate.storage): bounded, whatever the file's size.
    assert peak < 40 * MB, f"peak {peak / MB:.1f} MB"
    head = s3_media.client().head_object(
        Bucket=s3_media.bucket, Key=f"{asset.file.storage.location}/{asset.file.name}"
    )
    assert head["ContentLength"] == asset.size
    assert head["ETag"].strip('"').endswith("-21")  # a multipart upload: 161 MB in 8 MB parts
    assert os.listdir(temp_dir) == []
    print(f"upload of {asset.size / MB:.0f} MB to the bucket: traced peak {peak / MB:.1f} MB")


def test_an_upload_over_http_leaves_no_temporary_file(s3_media, client, member, tmp_path, temp_dir):
    client.force_login(member)
    clip = padded_video(tmp_path / "dance.mp4", 3)
    upload = SimpleUploadedFile("dance.mp4", clip.read_bytes(), content_type="video/mp4")
    response = client.post(reverse("api:asset-list"), {"kind": "video", "file": upload})
    assert response.status_code == 201, response.content
    assert Asset.objects.count() == 1
    assert os.listdir(temp_dir) == []


def test_a_refused_upload_leaves_no_temporary_file_and_nothing_in_the_bucket(
    s3_media, client, member, temp_dir
):
    client.force_login(member)
    garbage = SimpleUploadedFile(
        "dance.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(300_000), content_type="video/mp4"
    )
    response = client.post(reverse("api:asset-list"), {"kind": "video", "file": garbage})
    assert response.status_code == 400
    assert "Driving video" in response.content.decode()
    assert Asset.objects.count() == 0
    assert bucket_keys(s3_media, default_storage.location) == []
    assert os.listdir(temp_dir) == []


def test_a_failure_while_probing_a_spooled_upload_removes_its_copy(
    s3_media, team, member, temp_dir, monkeypatch
):
    def broken(path, *, field):
        raise MediaRejected(field, "Driving video: broken on purpose.")

    monkeypatch.setattr("animate.services.media.probe_video", broken)

    class Stream:
        """A file-like upload that is not on disk, so it is spooled to a temporary copy."""

        name = "x.mp4"
        size = 10
        file = None

        def chunks(self, size):
            yield b"0123456789"

    with pytest.raises(MediaRejected):
        asset_store(team=team, user=member, kind="video", uploaded_file=Stream())
    assert os.listdir(temp_dir) == []


def test_an_upload_to_the_live_server_lands_in_the_bucket_and_plays_from_there(
    s3_media, live_server, member, tmp_path, temp_dir
):
    import hashlib

    import httpx
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=member).key
    clip = padded_video(tmp_path / "live.mp4", 12)
    response = httpx.post(
        f"{live_server.url}/api/assets/?kind=video",
        files={"file": ("live.mp4", clip.read_bytes(), "video/mp4")},
        headers={"Authorization": f"Token {token}"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    asset = Asset.objects.get()
    assert f"{default_storage.location}/{asset.file.name}" in bucket_keys(s3_media, default_storage.location)
    url = response.json()["url"]  # absolute in the API
    media = httpx.get(url, headers={"Authorization": f"Token {token}"}, timeout=30)
    assert media.status_code == 302
    assert hashlib.sha256(httpx.get(media.headers["location"]).content).hexdigest() == asset.sha256
    assert os.listdir(temp_dir) == []
