"""The Redis channel layer of scale-out mode, made to ride out Redis failures.

channels-redis waits for messages with a blocking ``BZPOPMIN`` of 5 seconds, and redis-py's default
socket timeout is also 5 seconds: an idle socket's wait regularly lost that race with
``redis.exceptions.TimeoutError: Timeout reading from 127.0.0.1:6379``, which killed the websocket
consumer (and printed its traceback). ``layer_config`` gives the connections a socket timeout well past
the blocking wait.

Redis can still go away (a restart, a network cut). ``ResilientRedisChannelLayer`` then keeps every
consumer alive: receiving retries with a short backoff, sending and group changes give up quietly (the
database is the truth: a browser that missed an event gets the state in its next snapshot), the outage is
logged once when it starts and once when it ends, and as soon as Redis answers again the group
memberships of this process's sockets are added back (a restarted Redis has lost them) before anything
else is sent. Live events then resume.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels_redis.core import RedisChannelLayer
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Past channels-redis's 5-second blocking wait for a message, so an idle wait never times out.
SOCKET_TIMEOUT = 15.0
CONNECT_TIMEOUT = 5.0
# How long a send may take before it is given up: a worker thread waits for it (animate.events).
SEND_TIMEOUT = 2.0
RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)
FAILURES = (RedisError, OSError, asyncio.TimeoutError)


def layer_config(url: str, *, prefix: str = "asgi") -> dict[str, Any]:
    """``CHANNEL_LAYERS["default"]`` for Redis at ``url``."""
    return {
        "BACKEND": "animate.channel_layer.ResilientRedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {"address": url, "socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": CONNECT_TIMEOUT}
            ],
            "prefix": prefix,
        },
    }


class ResilientRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships: defaultdict[str, set[str]] = defaultdict(set)
        self.failing = False

    # --- the outage, logged once ---------------------------------------------------------------

    def _failed(self, action: str, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            logger.warning(
                "Redis channel layer unavailable (%s: %s: %s); live events pause until it is back",
                action,
                type(exc).__name__,
                exc,
            )

    async def _recover(self) -> bool:
        """After a failure: whether Redis answers again, with every socket's groups added back first (a
        Redis that restarted has forgotten them), so the next event reaches them."""
        if not self.failing:
            return True
        try:
            for channel, groups in list(self.memberships.items()):
                for group in list(groups):
                    await asyncio.wait_for(super().group_add(group, channel), SEND_TIMEOUT)
            await asyncio.wait_for(self.connection(0).ping(), SEND_TIMEOUT)
        except FAILURES:
            return False
        self.failing = False
        logger.warning("Redis channel layer is back; live events resume")
        return True

    async def _quietly(self, action: str, call: Callable[[], Awaitable[T]]) -> T | None:
        if not await self._recover():
            return None  # still down: given up at once rather than waited for
        try:
            return await asyncio.wait_for(call(), SEND_TIMEOUT)
        except FAILURES as exc:
            self._failed(action, exc)
            return None

    # --- the channel layer API -----------------------------------------------------------------

    async def receive(self, channel: str) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return await super().receive(channel)
            except FAILURES as exc:
                self._failed("receive", exc)
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            attempt += 1
            # A process that only receives (its events are sent by worker processes) finds out here.
            await self._recover()

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._quietly("send", lambda: super(ResilientRedisChannelLayer, self).send(channel, message))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._quietly(
            "group_send", lambda: super(ResilientRedisChannelLayer, self).group_send(group, message)
        )

    async def group_add(self, group: str, channel: str) -> None:
        # Remembered even when Redis is down, so the membership is made once it is back.
        self.memberships[channel].add(group)
        await self._quietly(
            "group_add", lambda: super(ResilientRedisChannelLayer, self).group_add(group, channel)
        )

    async def group_discard(self, group: str, channel: str) -> None:
        self.memberships[channel].discard(group)
        if not self.memberships[channel]:
            del self.memberships[channel]
        await self._quietly(
            "group_discard", lambda: super(ResilientRedisChannelLayer, self).group_discard(group, channel)
        )
