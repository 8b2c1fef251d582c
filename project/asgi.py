"""ASGI entry point: HTTP, websockets and (in embedded mode) the background worker threads."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from animate.embedded import lifespan  # noqa: E402
from animate.routing import websocket_urlpatterns  # noqa: E402
from animate.uploads import UploadLimitMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Oversized uploads are refused before Django spools their bodies to disk.
        "http": UploadLimitMiddleware(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        "lifespan": lifespan,
    }
)
