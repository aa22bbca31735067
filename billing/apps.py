from django.apps import AppConfig

# Periodic billing work, merged into the Celery beat schedule when the app loads.
BEAT_SCHEDULE = {
    "billing-subscriptions-renew": {
        "task": "billing.subscriptions_renew",
        "schedule": 60 * 60,
    },
}


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from progression.celery import beat_schedule_add

        beat_schedule_add(BEAT_SCHEDULE)
