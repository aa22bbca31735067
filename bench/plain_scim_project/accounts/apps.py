from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bench.plain_scim_project.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
