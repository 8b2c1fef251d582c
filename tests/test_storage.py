"""animate/storage.py against a real S3-compatible server (moto's, started by tests/s3kit.py)."""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from animate import storage as media_storage
from tests.s3kit import bucket_keys


def test_without_a_bucket_name_media_stay_on_the_local_disk():
    assert media_storage.s3_storage_options({}) is None
    assert media_storage.s3_storage_options({"AWS_STORAGE_BUCKET_NAME": ""}) is None
    assert not media_storage.is_s3()


def test_the_bucket_settings_are_private_path_addressed_and_multipart_in_bounded_parts():
    options = media_storage.s3_storage_options(
        {"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000"}
    )
    assert options["bucket_name"] == "media" and options["endpoint_url"] == "http://127.0.0.1:9000"
    assert options["addressing_style"] == "path" and options["signature_version"] == "s3v4"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["file_overwrite"] is False
    config = options["transfer_config"]
    assert config.multipart_chunksize == 8 * 1024 * 1024 and config.max_concurrency == 2
    assert media_storage.s3_origins(options) == ["http://127.0.0.1:9000"]
    aws = media_storage.s3_storage_options(
        {"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_REGION_NAME": "eu-west-1"}
    )
    assert media_storage.s3_origins(aws) == [
        "https://media.s3.amazonaws.com",
        "https://media.s3.eu-west-1.amazonaws.com",
    ]


def test_a_presigned_get_fetches_the_objects_bytes_with_our_type_and_name(s3_media):
    name = default_storage.save("teams/1/a.bin", ContentFile(b"0123456789" * 100))
    assert media_storage.is_s3()
    url = media_storage.presigned_get(
        name, expires_in=120, content_type="video/mp4", filename="dance.mp4", download=True
    )
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["120"]
    # The Content-Security-Policy names the origin presigned URLs really point at.
    options = media_storage.s3_storage_options(s3_media.environ())
    assert f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" in media_storage.s3_origins(options)
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"0123456789" * 100
    assert response.headers["content-type"] == "video/mp4"
    assert (
        response.headers["content-disposition"].startswith("attachment")
        and "dance.mp4" in (response.headers["content-disposition"])
    )
    partial = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206 and partial.content == b"0123456789"


def test_a_presigned_get_is_signed_for_the_short_lifetime_asked_for(s3_media, settings):
    # moto's server does not enforce X-Amz-Expires, so what is checked is the lifetime signed into the URL
    # (a real bucket refuses it afterwards).
    settings.ANIMATE_MEDIA_URL_SECONDS = 45
    name = default_storage.save("teams/1/b.bin", ContentFile(b"bytes"))
    url = media_storage.presigned_get(name, expires_in=media_storage.url_seconds())
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["45"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query


def test_a_presigned_put_writes_the_object_and_object_facts_tell_its_size_and_md5(s3_media):
    url = media_storage.presigned_put("teams/1/put.mp4", expires_in=60)
    assert media_storage.object_facts("teams/1/put.mp4") is None
    response = httpx.put(url, content=b"hello world", headers={"Content-Type": "video/mp4"})
    assert response.status_code == 200
    assert media_storage.object_facts("teams/1/put.mp4") == (11, "5eb63bbbe01eeed093cb22bb8f5acdc3")


def test_a_local_copy_of_a_bucket_object_is_removed_after_use_and_after_an_error(
    s3_media, tmp_path, monkeypatch
):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    name = default_storage.save("teams/1/c.bin", ContentFile(b"x" * 3000))
    with media_storage.local_copy(name, suffix=".bin") as path:
        assert path.read_bytes() == b"x" * 3000 and path.parent == tmp_path
    assert not path.exists()
    with pytest.raises(RuntimeError), media_storage.local_copy(name) as path:
        raise RuntimeError("probe failed")
    assert not path.exists()
    assert os.listdir(tmp_path) == []


def test_a_file_on_local_disk_is_used_in_place_not_copied(db):
    name = default_storage.save("teams/1/d.bin", ContentFile(b"local"))
    with media_storage.local_copy(name) as path:
        assert path == Path(default_storage.path(name))
    assert path.exists()  # the stored file itself stays


def test_file_digests_are_sha256_md5_and_size(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"hello world")
    sha256, md5, size = media_storage.file_digests(path)
    assert size == 11 and md5 == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert sha256 == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"


def test_bucket_keys_are_kept_under_the_tests_own_prefix(s3_media):
    name = default_storage.save("e.bin", ContentFile(b"e"))
    prefix = default_storage.location
    assert f"{prefix}/{name}" in bucket_keys(s3_media, prefix)
