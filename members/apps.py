from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        # The e-mail provider's verdicts arrive through anymail's webhooks as a signal (its
        # API); the receiver only calls the service that marks the address.
        from anymail.signals import tracking

        from members import mail

        tracking.connect(mail.tracking_event, dispatch_uid="members.mail.tracking_event")
