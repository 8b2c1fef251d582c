"""The delivery log over the API: list with outcomes, one with its body, replay, refusals."""

from animate.models import WebhookEvent
from animate.services import deliveries
from tests.api.conftest import api_client, make_generation


def _event(team, user, image, video):
    generation = make_generation(team, user, image, video, status="processing")
    body = {
        "data": [
            {"taskType": "videoInference", "taskUUID": str(generation.task_uuid), "status": "processing"}
        ]
    }
    return WebhookEvent.objects.create(generation=generation, body=body)


def test_deliveries_are_listed_read_replayed_and_refusals_counted(owner, creator, team, image, video):
    event = _event(team, creator, image, video)
    deliveries.delivery_rejected(generation_id=event.generation_id, status=413)
    client = api_client(owner)

    listed = client.get("/api/deliveries/", {"generation": event.generation_id}).json()
    detail = client.get(f"/api/deliveries/{event.pk}/").json()
    replay = client.post(f"/api/deliveries/{event.pk}/replay/")
    refusals = client.get("/api/deliveries/rejections/").json()

    assert listed["count"] == 1 and listed["results"][0]["verification"] == "Verified (secret and taskUUID)"
    assert detail["body"] == event.body and "body" not in listed["results"][0]
    assert (
        replay.status_code == 202
        and replay.json()["replay_of"] == event.pk
        and replay.json()["replayed_by"] == "owner"
    )
    assert refusals["results"] == [
        {
            "generation": event.generation_id,
            "reason": "oversize",
            "count": 1,
            "first_at": refusals["results"][0]["first_at"],
            "last_at": refusals["results"][0]["last_at"],
        }
    ]


def test_bad_filters_are_named_and_another_teams_delivery_is_404(
    owner, outsider, creator, team, image, video
):
    event = _event(team, creator, image, video)

    assert api_client(owner).get("/api/deliveries/", {"status": "weird"}).json()["errors"]["status"]
    assert api_client(owner).get("/api/deliveries/", {"generation": "x"}).json()["errors"]["generation"]
    assert api_client(outsider).get(f"/api/deliveries/{event.pk}/").status_code == 404
    assert api_client(outsider).post(f"/api/deliveries/{event.pk}/replay/").status_code == 404
    assert WebhookEvent.objects.count() == 1
