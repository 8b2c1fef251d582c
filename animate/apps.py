from django.apps import AppConfig


class AnimateConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "animate"
    verbose_name = "Animate Studio"
