"""ASGI entry point: HTTP, websockets and (in embedded mode) the background worker threads."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from animate.embedded import lifespan  # noqa: E402
from animate.requestlimits import BodyLimitedASGIHandler  # noqa: E402
from animate.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Django's handler, with a size limit on every route's body, checked before the body is read.
        "http": BodyLimitedASGIHandler(),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        "lifespan": lifespan,
    }
)
