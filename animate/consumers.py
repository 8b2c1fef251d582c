"""The live-status websocket: a snapshot from the database first, then the team's events."""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from animate import events
from animate.services import live
from animate.services.teams import session_team_id


class GenerationsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        chosen = session_team_id(self.scope.get("session"))
        team_id = await database_sync_to_async(live.team_id_for)(user, team_id=chosen)
        if team_id is None:
            await self.close(code=4403)
            return
        self.group = events.team_group(team_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.user_group = events.user_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        self.team_id = team_id
        snapshot = await database_sync_to_async(live.snapshot_for)(user, team_id=team_id)
        await self.send_json(snapshot)

    async def disconnect(self, code: int) -> None:
        for name in ("group", "user_group"):
            group = getattr(self, name, None)
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # A frame that is not JSON gets the same polite answer as an unknown message, not a dropped socket.
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.send_json({"type": "error", "error": "Send text frames holding JSON."})
            return
        await super().receive(text_data=text_data, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The only message a browser sends is a request for a fresh snapshot (e.g. after a tab wakes up).
        if isinstance(content, dict) and content.get("type") == "snapshot":
            snapshot = await database_sync_to_async(live.snapshot_for)(
                self.scope.get("user"), team_id=self.team_id
            )
            await self.send_json(snapshot)
        else:
            await self.send_json({"type": "error", "error": 'Unknown message; send {"type": "snapshot"}.'})

    async def animate_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])
