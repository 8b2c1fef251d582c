from django.urls import path

from animate.consumers import GenerationsConsumer

websocket_urlpatterns = [path("ws/generations/", GenerationsConsumer.as_asgi())]
