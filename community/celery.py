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
    # Stripe: a member an organiser removed (status "left") is not charged again.
    "stripe-leavers-subscriptions-stop": {
        "task": "rewards.tasks.stripe_leavers_subscriptions_stop",
        "schedule": crontab(minute="*/5"),
    },
}
