from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from progression.signin import register_discoverer
        from sso.discovery import connection_for_email

        register_discoverer(connection_for_email)
