"""The Redis channel layer (scale-out mode): events cross processes' loops through Redis."""

import json
import os

import pytest
from channels.layers import channel_layers

from animate.channel_layer import layer_config
from tests.livehelpers import fast_settings, submit
from tests.test_consumers import _events_until, _open

pytestmark = [pytest.mark.redis, pytest.mark.timeout(120)]


@pytest.fixture
def redis_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": layer_config("redis://127.0.0.1:6379/5", prefix=f"animate-test-{os.getpid()}")
    }
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def test_live_events_flow_through_redis(redis_layer, live_server, settings, member, image_asset, video_asset):
    from channels.layers import get_channel_layer

    fast_settings(settings)
    assert type(get_channel_layer()).__name__ == "ResilientRedisChannelLayer"
    with _open(live_server, member) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        generation = submit(member, image_asset, video_asset)
        seen = _events_until(ws, lambda m: m.get("id") == generation.pk and m.get("status") == "done")
    assert any(m["type"] == "generation.output" for m in seen)
