"""The Celery app and its beat schedule (in code).

With REDIS_URL unset (the embedded default) tasks run in the calling process
(CELERY_TASK_ALWAYS_EAGER), so a newcomer needs no broker.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")

app = Celery("community")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # The transactional outbox (members/outbox.py): tasks that could not be handed to the
    # broker when their transaction committed (the broker was down) are sent now.
    "outbox-relay": {
        "task": "members.tasks.outbox_relay",
        "schedule": crontab(minute="*"),
    },
    # The weekly close: every community whose week has ended in its own time zone gets one
    # close task (community/weekly.py); a week closes a few minutes after it ends.
    "weeks-dispatch": {
        "task": "community.tasks.weeks_dispatch",
        "schedule": crontab(minute="*/5"),
    },
    # Questions open when their week begins and close when it ends (questions.lifecycle).
    "questions-advance-sessions": {
        "task": "questions.tasks.advance_sessions",
        "schedule": crontab(minute="1-59/5"),
    },
    # The rotation: a week's moderator is fixed when it begins; swaps expire; reminders.
    "rotation-tick": {
        "task": "rotation.tasks.rotation_tick",
        "schedule": crontab(minute="2-59/5"),
    },
    # Digest e-mails: release the rows of a worker that died mid-batch; send what is queued.
    "digest-deliveries-recover": {
        "task": "questions.digests.tasks.deliveries_recover",
        "schedule": crontab(minute="4-59/5"),
    },
    "sync-community-phases": {
        "task": "members.tasks.sync_community_phases",
        "schedule": crontab(minute=17),
    },
    # Stripe: waiting webhook events tried again, lost ones re-queued (rewards.webhooks).
    "stripe-events-sweep": {
        "task": "rewards.tasks.stripe_events_sweep",
        "schedule": crontab(minute="*/10"),
    },
    # Stripe: members past their grace period, or whose subscription ended, lapse.
    "stripe-lapse-due": {
        "task": "rewards.tasks.stripe_lapse_due",
        "schedule": crontab(minute="5-59/15"),
    },
    # Stripe Connect: payouts still being sent after 10 minutes are sent again (same key).
    "payouts-pending-sweep": {
        "task": "rewards.tasks.payouts_pending_sweep",
        "schedule": crontab(minute="3-59/10"),
    },
}
