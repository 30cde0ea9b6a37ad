"""Background jobs of the rotation: idempotent, by id, tolerant of missing rows."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def send_notice_email(notice_id: int) -> None:
    from rotation import notices

    notices.email(notice_id)


@shared_task(ignore_result=True)
def rotation_tick() -> None:
    """Beat: in every community, fix the week that has begun, expire swaps, send reminders."""
    from rotation import notices

    notices.tick_all()
