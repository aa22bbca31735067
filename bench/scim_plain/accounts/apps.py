from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bench.scim_plain.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
