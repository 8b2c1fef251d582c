"""The same flow against a separate Runware-compatible server, configured only by settings.

A standalone sandbox process plays the part of Runware: nothing in the app knows it is a sandbox.
"""

import pytest

from animate.models import CostEntry, Generation, WebhookEvent
from tests.livehelpers import fast_settings, submit, wait_terminal
from tests.runware.test_sandbox_command import standalone  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def external(settings, live_server, standalone):  # noqa: F811
    fast_settings(settings)
    settings.RUNWARE_SANDBOX = False
    settings.RUNWARE_API_URL = f"{standalone}/v1"
    settings.RUNWARE_API_KEY = "an-api-key-for-the-external-server"
    settings.RUNWARE_MEDIA_HOSTS = ["127.0.0.1"]
    settings.ANIMATE_ALLOW_HTTP_MEDIA = True
    return standalone


def test_a_reachable_public_url_gets_webhooks_and_signed_input_urls(
    external, settings, member, image_asset, video_asset
):
    settings.PUBLIC_BASE_URL_REACHABLE = True
    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == Generation.Status.DONE, generation.error_message
    assert WebhookEvent.objects.filter(generation=generation).exists()
    inputs = generation.sent_task["inputs"]
    assert inputs["referenceVideos"][0].startswith(settings.PUBLIC_BASE_URL + "/m/signed/")
    assert CostEntry.objects.get().amount == generation.estimated_cost


def test_an_unreachable_public_url_uploads_the_inputs_and_completes_by_polling(
    external, settings, member, image_asset, video_asset
):
    settings.PUBLIC_BASE_URL_REACHABLE = False
    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == Generation.Status.DONE, generation.error_message
    assert "webhookURL" not in generation.sent_task
    assert not WebhookEvent.objects.exists()
    inputs = generation.sent_task["inputs"]
    assert not inputs["referenceImages"][0].startswith("http")  # a mediaStorage UUID
    assert generation.outputs.count() == 1
