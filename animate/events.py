"""Publishing small JSON-safe events to websocket groups, only after the database commit."""

import asyncio
import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None


def set_server_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Remember the ASGI server's loop so worker threads can deliver events onto it."""
    global _server_loop
    _server_loop = loop


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def member_group(team_id: int, user_id: int) -> str:
    """One user's sockets in one team: for what only that user may see (their stars)."""
    return f"member.{team_id}.{user_id}"


def send_now(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    # Serialised once here rather than once per open socket.
    message = {"type": "animate.event", "text": json.dumps(event)}
    loop = _server_loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is not None and loop.is_running() and running is not loop:
        # From a worker thread: the in-memory layer's queues belong to the server loop.
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        future.result(timeout=5)
    else:
        async_to_sync(layer.group_send)(group, message)


def publish_on_commit(group: str, event: dict[str, Any]) -> None:
    def deliver() -> None:
        try:
            send_now(group, event)
        except Exception:
            # The database is the truth; a lost announcement is recovered by the snapshot on reconnect.
            logger.exception("Could not publish event %s to %s", event.get("type"), group)

    transaction.on_commit(deliver)
