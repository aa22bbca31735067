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
    "sso-oidc-discovery-refresh": {
        "task": "sso.oidc_discovery_refresh",
        "schedule": 24 * 60 * 60,
    },
}


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from progression.celery import beat_schedule_add
        from progression.signin import (
            register_discoverer,
            register_password_policy,
            register_signout_step,
        )
        from sso.discovery import connection_for_email
        from sso.logout import signout_url
        from sso.oidc.logout import end_session_url
        from sso.services.policy import password_sign_in_allowed
        from sso.signin import last_login_record

        register_discoverer(connection_for_email)
        register_password_policy(password_sign_in_allowed)
        register_signout_step(signout_url)
        register_signout_step(end_session_url)
        beat_schedule_add(BEAT_SCHEDULE)
        # `last_login` is written by one compiled UPDATE instead of a save().
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(last_login_record, dispatch_uid="update_last_login")
