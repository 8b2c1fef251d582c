"""Ingestion of results delivered by uploadEndpoint: size, checksum and probe are checked on a local copy;
an object that fails is refused (and deleted) so the caller fetches videoURL instead."""

import os
from datetime import timedelta

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from animate.models import Generation, Output, ResultUpload
from animate.samples import make_driving_video
from animate.services import result_uploads
from animate.services.downloads import DownloadFailed

VIDEO_UUID = "0b8f6d1e-1111-4000-8000-000000000001"


@pytest.fixture
def generation(team, member, image_asset, video_asset) -> Generation:
    return Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="receiving"
    )


@pytest.fixture
def clip(tmp_path) -> bytes:
    return make_driving_video(tmp_path / "result.mp4", seconds=1.0, fps=8, width=160, height=240).read_bytes()


def _ingest(generation):
    return result_uploads.result_upload_ingest(
        generation=generation, video_uuid=VIDEO_UUID, seed=7, nsfw=False, cost=None
    )


def test_a_video_put_into_the_bucket_becomes_the_output_in_place(
    s3_media, generation, clip, tmp_path, monkeypatch
):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    url = result_uploads.result_upload_url(generation=generation)
    assert url.startswith(s3_media.endpoint) and "X-Amz-Signature=" in url
    assert httpx.put(url, content=clip).status_code == 200
    output = _ingest(generation)
    upload = ResultUpload.objects.get()
    assert isinstance(output, Output) and output.file.name == upload.name and output.seed == 7
    assert (upload.status, upload.size, upload.sha256) == ("used", len(clip), output.sha256)
    assert output.poster and default_storage.exists(output.poster.name)
    assert [name for name in os.listdir(tmp_path) if name.startswith("animate-media-")] == []
    # A used place is not used twice.
    assert result_uploads.result_upload_url(generation=generation) is None


def test_garbage_in_the_bucket_is_refused_deleted_and_left_to_videourl(s3_media, generation):
    url = result_uploads.result_upload_url(generation=generation)
    httpx.put(url, content=b"garbage " * 1000)
    assert result_uploads.result_upload_arrived(generation_id=generation.pk)
    assert _ingest(generation) is None
    upload = ResultUpload.objects.get()
    assert upload.status == "rejected" and "not a video" in upload.detail
    assert not default_storage.exists(upload.name) and not Output.objects.exists()


def test_an_object_over_the_size_limit_is_refused_without_being_read(s3_media, generation, clip):
    url = result_uploads.result_upload_url(generation=generation)
    ResultUpload.objects.update(max_bytes=len(clip) - 1)
    httpx.put(url, content=clip)
    assert _ingest(generation) is None
    assert "at most" in ResultUpload.objects.get().detail


def test_nothing_uploaded_means_fetch_videourl(s3_media, generation):
    result_uploads.result_upload_url(generation=generation)
    assert not result_uploads.result_upload_arrived(generation_id=generation.pk)
    assert _ingest(generation) is None
    assert ResultUpload.objects.get().status == "open"


def test_bytes_changed_after_our_endpoint_received_them_fail_the_checksum(settings, generation, clip):
    settings.PUBLIC_BASE_URL_REACHABLE = True
    result_uploads.result_upload_url(generation=generation)
    upload = ResultUpload.objects.get()
    other = bytes(reversed(clip))
    name = default_storage.save(upload.name, ContentFile(other))
    ResultUpload.objects.update(status="received", name=name, size=len(other), sha256="0" * 64)
    assert _ingest(generation) is None
    assert "SHA-256" in ResultUpload.objects.get().detail


def test_a_put_still_arriving_defers_the_result_then_gives_up_on_it(settings, generation):
    settings.PUBLIC_BASE_URL_REACHABLE = True
    result_uploads.result_upload_url(generation=generation)
    ResultUpload.objects.update(status="receiving", received_at=timezone.now())
    with pytest.raises(DownloadFailed):
        _ingest(generation)
    ResultUpload.objects.update(received_at=timezone.now() - timedelta(hours=1))
    assert _ingest(generation) is None
    assert ResultUpload.objects.get().status == "rejected"


def test_moves_only_go_forward(settings, generation):
    settings.PUBLIC_BASE_URL_REACHABLE = True
    result_uploads.result_upload_url(generation=generation)
    upload = ResultUpload.objects.get()
    assert result_uploads.result_upload_move(upload, ResultUpload.Status.USED)
    assert not result_uploads.result_upload_move(upload, ResultUpload.Status.OPEN)
    assert not result_uploads.result_upload_move(upload, ResultUpload.Status.REJECTED)
    upload.refresh_from_db()
    assert upload.status == "used"


def test_the_database_refuses_a_size_over_the_limit_or_an_unknown_status(settings, generation):
    from django.db import IntegrityError, transaction

    settings.PUBLIC_BASE_URL_REACHABLE = True
    result_uploads.result_upload_url(generation=generation)
    for change in ({"size": 0}, {"size": 10**12}, {"status": "lost"}, {"mode": "ftp"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ResultUpload.objects.update(**change)
