"""The Redis channel layer through a Redis outage: consumers live on, it is logged once, events resume."""

import asyncio
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from animate.channel_layer import SOCKET_TIMEOUT, ResilientRedisChannelLayer, layer_config

pytestmark = [pytest.mark.redis, pytest.mark.timeout(120)]


class PrivateRedis:
    """A redis-server of this test alone, on a unix socket (no port to collide on), that can be stopped."""

    def __init__(self, directory: Path) -> None:
        self.socket = directory / "redis.sock"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(  # noqa: S603 - the system's redis-server
            [server, "--port", "0", "--unixsocket", str(self.socket), "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
        self.socket.unlink(missing_ok=True)


@pytest.fixture
def redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_the_sockets_wait_past_the_blocking_receive_so_an_idle_wait_never_times_out():
    layer = ResilientRedisChannelLayer(**layer_config("redis://127.0.0.1:6379/0")["CONFIG"])
    assert layer.hosts[0]["socket_timeout"] == SOCKET_TIMEOUT > layer.brpop_timeout + 5


async def test_an_outage_is_logged_once_receivers_live_on_and_events_resume_after_it(redis, caplog):
    layer = ResilientRedisChannelLayer(**layer_config(redis.url, prefix=f"outage-{os.getpid()}")["CONFIG"])
    channel = await layer.new_channel()
    await layer.group_add("team.1", channel)
    await layer.group_send("team.1", {"type": "animate.event", "text": "before"})
    assert (await asyncio.wait_for(layer.receive(channel), 5))["text"] == "before"

    waiting = asyncio.create_task(layer.receive(channel))
    with caplog.at_level(logging.WARNING, logger="animate.channel_layer"):
        redis.stop()
        await asyncio.sleep(1.5)  # several failed receives
        for n in range(3):
            await layer.group_send("team.1", {"type": "animate.event", "text": f"lost {n}"})  # no exception
        assert not waiting.done()  # the consumer's receive is still waiting, not dead
        redis.start()  # a fresh Redis: the group membership is gone with the old one
        await asyncio.sleep(1.5)
        await layer.group_send("team.1", {"type": "animate.event", "text": "after"})
        message = await asyncio.wait_for(waiting, 10)
    assert message["text"] == "after"
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("Redis channel layer unavailable (")
    assert warnings[1] == "Redis channel layer is back; live events resume"
    await layer.flush()
