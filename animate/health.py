from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure is reported, never raised to the client
        return JsonResponse({"status": "error", "database": f"unavailable: {type(exc).__name__}"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "vendor": connection.vendor})
