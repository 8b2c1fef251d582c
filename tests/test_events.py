import asyncio
import json
import threading

import pytest
from channels.layers import get_channel_layer

from animate import events


@pytest.mark.django_db(transaction=True)
def test_events_are_sent_only_after_the_commit():
    from django.db import transaction

    layer = get_channel_layer()
    received = []

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add("team.1", channel)

        def in_transaction():
            with transaction.atomic():
                events.publish_on_commit("team.1", {"type": "x", "id": 1})
                received.append("before-commit")

        await asyncio.to_thread(in_transaction)
        message = await asyncio.wait_for(layer.receive(channel), 2)
        received.append(json.loads(message["text"]))

    asyncio.run(scenario())
    assert received == ["before-commit", {"type": "x", "id": 1}]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_publishes_nothing():
    from django.db import transaction

    sent = []
    original = events.send_now
    events.send_now = lambda group, event: sent.append(event)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish_on_commit("team.1", {"type": "x"})
            raise RuntimeError
    finally:
        events.send_now = original
    assert sent == []


def test_a_worker_thread_delivers_onto_the_server_loop():
    """The in-memory layer only works on the loop that owns its queues: worker threads hand over."""
    layer = get_channel_layer()

    async def scenario():
        events.set_server_loop(asyncio.get_running_loop())
        try:
            channel = await layer.new_channel()
            await layer.group_add("team.9", channel)
            thread = threading.Thread(target=events.send_now, args=("team.9", {"type": "y", "id": 9}))
            thread.start()
            message = await asyncio.wait_for(layer.receive(channel), 2)
            await asyncio.to_thread(thread.join)
            return message
        finally:
            events.set_server_loop(None)

    message = asyncio.run(scenario())
    assert message["type"] == "animate.event" and json.loads(message["text"]) == {"type": "y", "id": 9}
