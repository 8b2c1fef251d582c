"""The app's routes, plus two endpoints the benchmarks compare the app against, in the same server.

- ``bench/trivial``: the least a Django view through the whole middleware stack can do (one ``SELECT 1``),
  the yardstick of webhook ingest throughput;
- ``bench/broadcast``: an event pushed straight to a team's sockets, no database, the yardstick of
  webhook -> browser latency.
"""

import json

from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


def trivial(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok"})


@csrf_exempt
async def broadcast(request: HttpRequest) -> JsonResponse:
    event = json.loads(request.body)
    await get_channel_layer().group_send(
        f"team.{event['team']}", {"type": "animate.event", "text": json.dumps(event["event"])}
    )
    return JsonResponse({"sent": True})


urlpatterns = [
    path("bench/trivial", trivial),
    path("bench/broadcast", broadcast),
    path("", include("project.urls")),
]
