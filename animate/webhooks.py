"""The Runware webhook receiver: authenticate cheaply, store the raw body, answer 2xx at once.

A plain Django view, not a REST framework one: it is the hottest path of the app (every result, every
retry and replay of Runware's lands here), and content negotiation, parsers and renderers would only
cost time for a body that is read raw and an answer that is always the same small JSON.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from animate.services import deliveries
from animate.services.webhook_events import WebhookRejected, webhook_receive

logger = logging.getLogger(__name__)


@csrf_exempt  # Runware posts from its servers; the per-generation secret in the path is the credential
def runware_webhook(request: HttpRequest, generation_id: int, secret: str) -> JsonResponse:
    """POST target of each generation's ``webhookURL``. Runware does not sign webhooks, so the
    per-generation random secret in the path is the credential (only its hash is stored)."""
    if request.method != "POST":
        response = JsonResponse({"error": "Webhooks are POSTed."}, status=405)
        response["Allow"] = "POST"
        return response
    limit = int(getattr(settings, "ANIMATE_WEBHOOK_MAX_BYTES", 256 * 1024))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _reject(generation_id, 413, f"Body larger than {limit} bytes.")
    body = request.body
    if len(body) > limit:
        return _reject(generation_id, 413, f"Body larger than {limit} bytes.")
    try:
        receipt = webhook_receive(
            generation_id=generation_id,
            secret=secret,
            body=body,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
    except WebhookRejected as exc:
        return _reject(generation_id, exc.status_code, exc.reason)
    # A replay is answered 200 (nothing new was accepted); a new body 202 (accepted for processing).
    return JsonResponse(
        {"received": receipt.event_id, "duplicate": receipt.duplicate},
        status=200 if receipt.duplicate else 202,
    )


def _reject(generation_id: int, status: int, reason: str) -> JsonResponse:
    logger.warning("Rejected webhook for generation %s: %s %s", generation_id, status, reason)
    # Counted for the delivery log; the body itself is never stored.
    deliveries.delivery_rejected(generation_id=generation_id, status=status)
    return JsonResponse({"error": reason}, status=status)
