"""The digest's background jobs: idempotent, by id, tolerant of missing rows."""

from __future__ import annotations

from celery import shared_task

# A batch's task is killed well before its claim's lease runs out (delivery.LEASE), so a
# claim old enough to be recovered never belongs to a worker still sending.
BATCH_TIME_LIMIT = 5 * 60


@shared_task(ignore_result=True)
def deliveries_queue(digest_id: int) -> None:
    from questions.digests import delivery

    delivery.deliveries_queue(digest_id)


@shared_task(
    bind=True,
    ignore_result=True,
    time_limit=BATCH_TIME_LIMIT,
    soft_time_limit=BATCH_TIME_LIMIT - 30,
)
def batch_send(self, digest_id: int, first_id: int, last_id: int) -> None:
    from questions.digests import delivery

    result = delivery.batch_send(digest_id, first_id, last_id)
    if result.requeued:
        # Transient trouble (the server, the network): try the rest again a little later.
        batch_send.apply_async(
            (digest_id, first_id, last_id), countdown=min(60 * (self.request.retries + 1), 600)
        )


@shared_task(ignore_result=True)
def deliveries_recover() -> None:
    """Beat: release dead workers' claims and dispatch what is still queued."""
    from questions.digests import delivery

    delivery.deliveries_recover()


@shared_task(ignore_result=True)
def draft_tell_moderator(digest_id: int) -> None:
    from questions.digests import services

    services.draft_tell_moderator(digest_id)
