"""Background jobs of the questions app: idempotent, by id, tolerant of missing rows."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def send_notification_email(notification_id: int) -> None:
    """Send a notification's e-mail unless sent already or the recipient has since chosen the
    portal only, or off, for its kind (checked at send time in notifications.email)."""
    from questions import notifications

    notifications.email(notification_id)


@shared_task(ignore_result=True)
def advance_sessions() -> None:
    """Open the questions of weeks that have begun and close those of weeks that ended."""
    from questions import services

    services.sessions_advance()


# The digest's tasks live with its code; importing them here registers them with Celery's
# autodiscovery (which looks at <app>.tasks).
from questions.digests import tasks as digest_tasks  # noqa: E402, F401
