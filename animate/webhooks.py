"""The Runware webhook receiver: authenticate cheaply, store the raw body, answer 2xx at once."""

import logging

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from animate.services import deliveries
from animate.services.ingest import WebhookRejected, webhook_receive

logger = logging.getLogger(__name__)


class RunwareWebhookView(APIView):
    """POST target of each generation's ``webhookURL``. Runware does not sign webhooks, so the
    per-generation random secret in the path is the credential (only its hash is stored)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(exclude=True)
    def post(self, request: Request, generation_id: int, secret: str) -> Response:
        limit = int(getattr(settings, "ANIMATE_WEBHOOK_MAX_BYTES", 256 * 1024))
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return self._reject(generation_id, 413, f"Body larger than {limit} bytes.")
        body = request.body
        if len(body) > limit:
            return self._reject(generation_id, 413, f"Body larger than {limit} bytes.")
        try:
            receipt = webhook_receive(
                generation_id=generation_id,
                secret=secret,
                body=body,
                remote_addr=request.META.get("REMOTE_ADDR"),
            )
        except WebhookRejected as exc:
            return self._reject(generation_id, exc.status_code, exc.reason)
        # A replay is answered 200 (nothing new was accepted); a new body 202 (accepted for processing).
        return Response(
            {"received": receipt.event_id, "duplicate": receipt.duplicate},
            status=200 if receipt.duplicate else 202,
        )

    @staticmethod
    def _reject(generation_id: int, status: int, reason: str) -> Response:
        logger.warning("Rejected webhook for generation %s: %s %s", generation_id, status, reason)
        # Counted for the delivery log; the body itself is never stored.
        deliveries.delivery_rejected(generation_id=generation_id, status=status)
        return Response({"error": reason}, status=status)
