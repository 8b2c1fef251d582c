"""Serve the Runware sandbox on its own port, so any Runware client can be pointed at it.

    python manage.py runware_sandbox --port 8765 [--host 127.0.0.1] [--api-key KEY]

The API answers at ``http://HOST:PORT/v1`` (like ``https://api.runware.ai/v1``) and, for URLs copied from
the embedded setup, at ``/sandbox/v1``. The process serves nothing else: ROOT_URLCONF is switched to
``animate.runware.sandbox.standalone_urls`` before the ASGI application is built.

Bound to a loopback address, only this machine can reach it, and it answers only to loopback names in
the Host header (so a web page cannot reach it by DNS rebinding). Bound to any other address it is open
to the network, so it refuses to start without an API key (``--api-key`` or the setting
``RUNWARE_SANDBOX_API_KEY``), then accepts any Host header: clients reach it by names unknown in advance,
and result URLs are built from the name they used.

Its state (accepted tasks, results, stored media, charges) is kept in its own SQLite file (``--state``,
default ``RUNWARE_SANDBOX_ROOT/state.sqlite3``), so a restarted sandbox still answers ``getResponse`` for
the tasks it accepted and finishes and delivers the ones it was working on. Websocket connections (the
transport of Runware's own SDKs, which this sandbox does not speak) are refused with a 403.
"""

import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.management.base import BaseCommand, CommandError, CommandParser

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
logger = logging.getLogger(__name__)


def http_only(application: Any) -> Any:
    """``application`` for HTTP; a websocket handshake is refused (403) before it reaches Django, whose
    ASGI handler would fail on it with a 500 and a traceback in the log."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            message = await receive()
            if message["type"] == "websocket.connect":
                logger.info(
                    "Refused a websocket connection to %s: this sandbox speaks HTTP only", scope["path"]
                )
                # Closing before accepting is answered as an HTTP 403 by the server.
                await send({"type": "websocket.close", "code": 1008})
            return
        await application(scope, receive, send)

    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an interface to bind) is reachable from this machine only."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public interface


@dataclass(frozen=True)
class Plan:
    """How the sandbox is exposed: the Host headers it answers, the one API key it takes, and what the
    operator must be told."""

    allowed_hosts: list[str]
    api_key: str
    warnings: list[str]


def plan(host: str, *, api_key: str | None, configured_key: str, allowed_hosts: list[str]) -> Plan:
    """Decide the exposure for binding ``host``; CommandError when it would be open to the network with
    no API key. Touches no settings, so it can be tested without serving anything."""
    key = api_key or configured_key
    if is_loopback(host):
        hosts = list(dict.fromkeys([*allowed_hosts, *LOOPBACK_NAMES, _host_header_name(host)]))
        warning = (
            f"the sandbox is bound to {host} (this machine only); it renders videos and fetches URLs "
            "on request, and "
            + ("accepts only the configured API key." if key else "accepts any non-empty API key.")
        )
        return Plan(hosts, key, [warning])
    if not key:
        raise CommandError(
            f"Refusing to bind {host}: the sandbox would be open to the network with any API key accepted. "
            "Pass --api-key KEY (or set RUNWARE_SANDBOX_API_KEY), or bind a loopback address such as "
            "127.0.0.1."
        )
    warning = (
        f"the sandbox is bound to {host} and reachable from the network; it accepts any Host header and "
        "only the configured API key. It fetches input URLs and sends webhooks only to "
        "RUNWARE_SANDBOX_ALLOWED_HOSTS."
    )
    return Plan(["*"], key, [warning])


def _host_header_name(host: str) -> str:
    host = host.strip().strip("[]")
    return f"[{host}]" if ":" in host else host


class Command(BaseCommand):
    help = "Serve the Runware-compatible sandbox API (POST /v1) with uvicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, required=True, help="TCP port to listen on.")
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
        parser.add_argument(
            "--api-key",
            default=None,
            help="The only API key accepted (default: the setting RUNWARE_SANDBOX_API_KEY; empty accepts "
            "any key). Required to bind a non-loopback address.",
        )
        parser.add_argument("--log-level", default="info", help="uvicorn log level (default info).")
        parser.add_argument(
            "--state",
            default=None,
            help="SQLite file keeping the sandbox's tasks across restarts (default: "
            "RUNWARE_SANDBOX_ROOT/state.sqlite3).",
        )

    def handle(
        self,
        *args: object,
        port: int,
        host: str,
        api_key: str | None,
        log_level: str,
        state: str | None,
        **options: object,
    ) -> None:
        exposure = plan(
            host,
            api_key=api_key,
            configured_key=getattr(settings, "RUNWARE_SANDBOX_API_KEY", ""),
            allowed_hosts=list(settings.ALLOWED_HOSTS),
        )
        import uvicorn

        settings.ROOT_URLCONF = "animate.runware.sandbox.standalone_urls"
        settings.ALLOWED_HOSTS = exposure.allowed_hosts
        settings.RUNWARE_SANDBOX_API_KEY = exposure.api_key
        for warning in exposure.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        from animate.runware.sandbox import engine

        state_path = Path(state) if state else engine.root() / "state.sqlite3"
        settings.RUNWARE_SANDBOX_STATE = str(state_path)
        engine.sandbox()  # read the state now: unfinished tasks resume before the first request
        access = "only the configured API key" if exposure.api_key else "any API key"
        self.stdout.write(f"Runware sandbox: POST http://{_host_header_name(host)}:{port}/v1 ({access})")
        self.stdout.write(f"Runware sandbox: state kept in {state_path}")
        # Django's ASGI handler speaks HTTP only, hence no lifespan.
        application = http_only(get_asgi_application())
        uvicorn.run(application, host=host, port=port, lifespan="off", log_level=log_level)
