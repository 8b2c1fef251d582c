"""The live websocket: a snapshot from the database first, then the team's events.

Besides generation status, it carries review events: verdicts and comments to the whole team, stars
only to their user's sockets in that team (``events.member_group``). A page showing outputs asks for
their review snapshot with ``{"type": "review.subscribe", "outputs": [ids], "comments": bool}``; the
answer is read from the database after the socket joined its groups, so nothing falls between it and
the live events that follow.
"""

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
        self.member_group = events.member_group(team_id, user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(self.member_group, self.channel_name)
        await self.accept()
        self.team_id = team_id
        snapshot = await database_sync_to_async(live.snapshot_for)(user, team_id=team_id)
        await self.send_json(snapshot)

    async def disconnect(self, code: int) -> None:
        for group in (getattr(self, "group", None), getattr(self, "member_group", None)):
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
        # A browser asks for a fresh snapshot (e.g. after a tab wakes up), or for the review state of the
        # outputs it shows.
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "snapshot":
            snapshot = await database_sync_to_async(live.snapshot_for)(
                self.scope.get("user"), team_id=self.team_id
            )
            await self.send_json(snapshot)
        elif kind == "review.subscribe" and isinstance(content.get("outputs"), list):
            snapshot = await database_sync_to_async(live.review_snapshot_for)(
                self.scope.get("user"),
                team_id=self.team_id,
                output_ids=content["outputs"],
                comments=bool(content.get("comments")),
            )
            await self.send_json(snapshot)
        else:
            await self.send_json(
                {
                    "type": "error",
                    "error": 'Unknown message; send {"type": "snapshot"} or '
                    '{"type": "review.subscribe", "outputs": [ids]}.',
                }
            )

    async def animate_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])
