"""``/healthz``: whether this server can do its work, and what in its configuration stops it.

It is answered by ``HealthCheckMiddleware``, first in ``MIDDLEWARE``, before host validation and the
HTTPS redirect: a load balancer probing by IP over plain HTTP gets an answer, and a server whose
``ALLOWED_HOSTS`` refuses every request says so here instead of answering 400 like everything else.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


def configuration_warnings() -> list[str]:
    """What in the settings keeps this server from answering requests; empty when nothing."""
    problems = []
    if not settings.DEBUG and not settings.ALLOWED_HOSTS:
        problems.append(
            "ALLOWED_HOSTS is empty, so every request except /healthz is answered 400 Bad Request. "
            "Set ALLOWED_HOSTS to the host names this server is reached by (e.g. studio.example.com)."
        )
    return problems


def startup_warnings_log() -> None:
    """Said once when the server starts (the ASGI lifespan), where the operator is looking."""
    for problem in configuration_warnings():
        logger.warning(problem)


@register()
def configuration_check(app_configs: object = None, **kwargs: object) -> list[CheckWarning]:
    return [CheckWarning(problem, id="animate.W001") for problem in configuration_warnings()]


def _host_allowed(request: HttpRequest) -> bool:
    domain, _port = split_domain_port(request._get_raw_host())
    hosts = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return bool(domain) and validate_host(domain, hosts)


def _worker_state() -> str:
    if not settings.EMBEDDED_WORKER:
        # Worker processes (manage.py worker) of any machine, seen through their heartbeats.
        from animate.services.workers import workers_alive

        return f"external: {len(workers_alive())} worker process(es) alive"
    from animate.embedded import EmbeddedWorkers

    alive = sum(1 for thread in EmbeddedWorkers.threads_alive())
    return f"embedded: {alive} of {settings.EMBEDDED_WORKER_THREADS} thread(s) running"


def healthz(request: HttpRequest) -> JsonResponse:
    if request.method not in {"GET", "HEAD"}:
        return JsonResponse({"errors": {"detail": ["Use GET."]}}, status=405, headers={"Allow": "GET, HEAD"})
    body: dict[str, object] = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure is reported, never raised to the client
        body.update(status="error", database=f"unavailable: {type(exc).__name__}")
        return JsonResponse(body, status=503)
    body.update(database="ok", vendor=connection.vendor)
    body["worker"] = _worker_state()
    body["channel_layer"] = "redis" if settings.REDIS_URL else "in-memory"
    body["host_allowed"] = _host_allowed(request)
    warnings = configuration_warnings()
    if warnings:
        body.update(status="warning", warnings=warnings)
    return JsonResponse(body)


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return healthz(request)
        return self.get_response(request)
