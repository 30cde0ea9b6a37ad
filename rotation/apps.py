from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RotationConfig(AppConfig):
    name = "rotation"
    verbose_name = _("Moderator rotation")

    def ready(self) -> None:
        from members import audit
        from rotation.audit import Event

        audit.register(Event, "rotation")
