"""Results delivered by uploadEndpoint, end to end: the sandbox PUTs the video, the webhook announces it,
ingestion checks and uses the uploaded object and never fetches the provider's videoURL.

Into the bucket (moto's server) by a presigned PUT; on local disk through our own single-use endpoint.
"""

import hashlib

import httpx
import pytest
from django.core.files.storage import default_storage
from django.core.signals import request_started

from animate.models import CostEntry, Generation, Output, ResultUpload
from tests.livehelpers import fast_settings, submit, wait_terminal

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _fast(settings):
    fast_settings(settings)


@pytest.fixture
def provider_gets() -> list[str]:
    """Every request to the sandbox's result videos (``videoURL``) the live server receives."""
    seen: list[str] = []

    def record(sender, scope=None, environ=None, **kwargs):
        path = (scope or {}).get("path") or (environ or {}).get("PATH_INFO", "")
        if path.startswith("/sandbox/media/"):
            seen.append(path)

    request_started.connect(record, weak=False)
    yield seen
    request_started.disconnect(record)


def _stored_bytes(output: Output) -> bytes:
    with output.file.open("rb") as handle:
        return handle.read()


def test_the_result_is_put_into_the_bucket_and_taken_from_there(
    s3_media, live_server, member, image_asset, video_asset, provider_gets
):
    # s3_media comes first: the inputs were uploaded into the bucket too.
    assert default_storage.exists(video_asset.file.name) and not video_asset.file.storage.location.startswith(
        "/"
    )
    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == Generation.Status.DONE, generation.error_message
    upload = ResultUpload.objects.get(generation=generation)
    output = generation.outputs.get()
    assert (upload.mode, upload.status) == ("bucket", "used")
    assert output.file.name == upload.name and upload.size == output.size
    # The object Runware (the sandbox) PUT is the output: nothing was copied, nothing fetched.
    head = s3_media.client().head_object(
        Bucket=s3_media.bucket, Key=f"{default_storage.location}/{upload.name}"
    )
    assert head["ContentLength"] == output.size
    assert hashlib.sha256(_stored_bytes(output)).hexdigest() == output.sha256
    assert provider_gets == []
    assert CostEntry.objects.get().video_uuid == output.video_uuid
    # The presigned PUT is a credential: kept only redacted.
    assert "X-Amz-Signature=[redacted]" in generation.sent_task["uploadEndpoint"]
    inputs = generation.sent_task["inputs"]
    assert inputs["referenceVideos"][0].startswith(s3_media.endpoint)
    assert "X-Amz-Signature=[redacted]" in inputs["referenceVideos"][0]


def test_with_several_results_no_upload_endpoint_is_sent_and_videos_are_fetched(
    live_server, member, image_asset, video_asset, provider_gets
):
    generation = wait_terminal(submit(member, image_asset, video_asset, numberResults=2))
    assert generation.status == Generation.Status.DONE, generation.error_message
    assert "uploadEndpoint" not in generation.sent_task
    assert not ResultUpload.objects.exists()
    # Each video is fetched from videoURL, once: a poll racing the webhook leaves it to the fetch under way.
    assert generation.outputs.count() == 2 and len(provider_gets) == len(set(provider_gets)) == 2


def test_on_local_disk_the_result_is_put_to_our_endpoint_and_never_fetched(
    live_server, member, image_asset, video_asset, provider_gets
):
    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == Generation.Status.DONE, generation.error_message
    upload = ResultUpload.objects.get(generation=generation)
    output = generation.outputs.get()
    assert (upload.mode, upload.status) == ("endpoint", "used")
    assert output.file.name == upload.name and output.sha256 == upload.sha256
    assert hashlib.sha256(_stored_bytes(output)).hexdigest() == output.sha256
    assert provider_gets == []
    assert "/r/uploads/[redacted]" in generation.sent_task["uploadEndpoint"]


def test_a_garbage_upload_is_refused_and_the_generation_fetches_the_video_instead(
    live_server, member, image_asset, video_asset, provider_gets
):
    generation = wait_terminal(
        submit(member, image_asset, video_asset, positivePrompt="a dancer [sandbox:garbage_upload]")
    )
    assert generation.status == Generation.Status.DONE, generation.error_message
    upload = ResultUpload.objects.get(generation=generation)
    assert upload.status == "rejected" and "not a video" in upload.detail
    assert not default_storage.exists(upload.name)
    output = generation.outputs.get()
    assert output.file.name != upload.name
    # The fallback download, once, even when a webhook and a poll apply the result at the same moment.
    assert len(provider_gets) == 1


def test_a_result_over_the_size_limit_is_refused_at_the_put_and_the_generation_fails_saying_so(
    live_server, settings, member, image_asset, video_asset, provider_gets
):
    settings.ANIMATE_MAX_OUTPUT_BYTES = 2000  # smaller than any rendered video
    generation = wait_terminal(submit(member, image_asset, video_asset))
    # The PUT was answered 413 before its body was read; the fallback download meets the same limit.
    assert (generation.status, generation.error_code) == ("failed", "resultRejected")
    assert "2000" in generation.error_message  # the limit, named
    upload = ResultUpload.objects.get(generation=generation)
    assert upload.status == "open" and not default_storage.exists(upload.name)
    assert not Output.objects.exists()
    assert CostEntry.objects.count() == 1  # Runware charged for it all the same, once


def test_a_second_put_to_a_used_endpoint_is_refused(live_server, member, image_asset, video_asset):
    from animate.services import result_uploads

    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == Generation.Status.DONE
    upload = ResultUpload.objects.get(generation=generation)
    token_url = _endpoint_url(result_uploads, upload, live_server.url)
    output = generation.outputs.get()
    again = httpx.put(token_url, content=_stored_bytes(output))
    assert again.status_code == 409 and "used already" in again.json()["errors"]["file"][0]
    upload.refresh_from_db()
    assert upload.status == "used" and Output.objects.count() == 1


def _endpoint_url(result_uploads, upload, base: str) -> str:
    from django.urls import reverse

    token = result_uploads._signer().sign(str(upload.uuid))
    return base + reverse("result-upload", kwargs={"token": token})
