"""Background jobs of the composition root: the weekly close (community/weekly.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def weeks_dispatch() -> None:
    """Beat: queue the close of every community whose week has ended in its time zone."""
    from community import weekly

    weekly.weeks_dispatch()


@shared_task(ignore_result=True, acks_late=True)
def week_close(community_id: int, week: str) -> None:
    """Close (or resume closing) one community's week, given as its first day (ISO date)."""
    from community import weekly

    weekly.week_close_task_body(community_id, week)
