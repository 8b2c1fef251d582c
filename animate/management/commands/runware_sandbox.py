"""Serve the Runware sandbox on its own port, so any Runware client can be pointed at it.

    python manage.py runware_sandbox --port 8765 [--host 127.0.0.1]

The API answers at ``http://HOST:PORT/v1`` (like ``https://api.runware.ai/v1``) and, for URLs copied from
the embedded setup, at ``/sandbox/v1``. The process serves nothing else: ROOT_URLCONF is switched to
``animate.runware.sandbox.standalone_urls`` before the ASGI application is built.
"""

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.management.base import BaseCommand, CommandParser

ALL_INTERFACES = ("0.0.0.0", "::")  # noqa: S104 - names to recognise, not to bind


class Command(BaseCommand):
    help = "Serve the Runware-compatible sandbox API (POST /v1) with uvicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, required=True, help="TCP port to listen on.")
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
        parser.add_argument("--log-level", default="info", help="uvicorn log level (default info).")

    def handle(self, *args: object, port: int, host: str, log_level: str, **options: object) -> None:
        import uvicorn

        settings.ROOT_URLCONF = "animate.runware.sandbox.standalone_urls"
        # videoURLs are built from the Host header, so clients must be able to reach us by any name
        # they use; on all interfaces that name is unknown in advance (the sandbox holds no secrets).
        if host in ALL_INTERFACES:
            settings.ALLOWED_HOSTS = ["*"]
        else:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host, "127.0.0.1", "localhost"]
        self.stdout.write(f"Runware sandbox: POST http://{host}:{port}/v1 (any API key unless configured)")
        # Django's ASGI handler speaks HTTP only, hence no lifespan.
        uvicorn.run(get_asgi_application(), host=host, port=port, lifespan="off", log_level=log_level)
