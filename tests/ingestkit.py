"""Results as Runware reports them, parsed, for the ingestion tests."""

import uuid

from animate.models import Generation, WebhookEvent
from animate.runware import spec


def success(generation, video_b64, video_uuid=None, seed=7, cost=0.01):
    return spec.parse_result(
        {
            "taskType": "videoInference",
            "taskUUID": str(generation.task_uuid),
            "status": "success",
            "videoUUID": str(video_uuid or uuid.uuid4()),
            "videoBase64Data": video_b64,
            "seed": seed,
            "cost": cost,
            "NSFWContent": False,
        }
    )


def status_item(generation, status, **extra):
    return spec.parse_result(
        {"taskType": "videoInference", "taskUUID": str(generation.task_uuid), "status": status, **extra}
    )


def stored_event(generation: Generation, body: dict, **fields) -> WebhookEvent:
    """A webhook body as the receiver stores it (``fields``: its status, claim time...)."""
    return WebhookEvent.objects.create(generation=generation, body=body, **fields)


def error_body(generation: Generation, message: str, **extra) -> dict:
    item = {"taskUUID": str(generation.task_uuid), "status": "error", "code": "x", "message": message}
    return {"errors": [{**item, **extra}]}
