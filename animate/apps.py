from django.apps import AppConfig


class AnimateConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "animate"
    verbose_name = "Animate Studio"

    def ready(self) -> None:
        from animate import (
            health,  # noqa: F401 - registers the configuration check
            signals,  # noqa: F401 - connects the audit log's receivers
        )
