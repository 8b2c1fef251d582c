"""``PUT /r/uploads/<token>``: where Runware uploads a result when media are on local disk.

Like the webhook, it is called by a server, authenticated by the signed token in its URL, and cheap to
refuse: the body is limited to ``ANIMATE_MAX_OUTPUT_BYTES`` by the ASGI handler before a byte of it is
read (``request_body_limit``), and the token takes one PUT only. The work is
``animate.services.result_uploads.result_upload_receive``.
"""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from animate.services.result_uploads import UploadRefused, result_upload_receive


class _ResultBodyLimit:
    """The body limit of this route, read from the settings each time it is asked for."""

    def __int__(self) -> int:
        return int(getattr(settings, "ANIMATE_MAX_OUTPUT_BYTES", 1024**3))


@csrf_exempt  # called by Runware's servers with a bearer token in the URL: no browser session to protect
@require_http_methods(["PUT"])
def result_upload_put(request: HttpRequest, token: str) -> JsonResponse:
    try:
        upload = result_upload_receive(
            token=token, body=request, content_length=request.META.get("CONTENT_LENGTH")
        )
    except UploadRefused as refused:
        # The API's error shape, naming the one input there is: the result video.
        return JsonResponse({"errors": {"file": [refused.message]}}, status=refused.status)
    return JsonResponse({"size": upload.size, "sha256": upload.sha256}, status=201)


result_upload_put.request_body_limit = _ResultBodyLimit()  # type: ignore[attr-defined]
