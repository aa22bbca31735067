from django.apps import AppConfig

# Periodic SSO work, merged into the Celery beat schedule when the app loads.
BEAT_SCHEDULE = {
    "sso-certificates-check-expiry": {
        "task": "sso.certificates_check_expiry",
        "schedule": 24 * 60 * 60,
    },
    "sso-metadata-refresh": {
        "task": "sso.metadata_refresh",
        "schedule": 6 * 60 * 60,
    },
}


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from progression import signin
        from progression.celery import app
        from progression.signin import register_discoverer
        from sso.discovery import connection_for_email

        register_discoverer(connection_for_email)
        # "Require SSO" needs the password form to ask; the core's sign-in
        # registry offers the hook once it has one.
        register_policy = getattr(signin, "register_password_policy", None)
        if register_policy is not None:
            from sso.services import password_sign_in_allowed

            register_policy(password_sign_in_allowed)
        schedule = dict(app.conf.beat_schedule or {})
        schedule.update(BEAT_SCHEDULE)
        app.conf.beat_schedule = schedule
