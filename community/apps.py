from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Community platform")

    def ready(self) -> None:
        # The composition root wires what members' changes mean to the apps on its right
        # (members.reactions): explicit calls, not signals and not polling.
        from members import reactions
        from rewards import ledger, subscriptions

        reactions.wire(membership_left=subscriptions.member_left, holds_money=ledger.holds_money)
