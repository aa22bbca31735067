"""A user and a group model as django-scim2's default adapters expect them.

`SCIMUser` reads and writes Django's `AbstractUser` fields (`username`,
`first_name`, `last_name`, `email`, `is_active`, `date_joined`) and lists
`scim_groups`; `SCIMGroup` reads `name` and the members through `user_set`.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


class Group(AbstractSCIMGroupMixin):
    name = models.CharField(max_length=80, unique=True)

    def __str__(self):
        return self.name


class User(AbstractSCIMUserMixin, AbstractUser):
    scim_groups = models.ManyToManyField(Group, related_name="user_set", blank=True)

    def __str__(self):
        return self.username
