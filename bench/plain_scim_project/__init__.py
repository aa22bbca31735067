"""A fresh Django project with plain django-scim2, for `bench/scim_plain.py`.

Nothing of ours is installed: one app with a user and a group model built
on django-scim2's mixins, its default adapters, its URLs and its auth check,
and the same bare insert view as `bench/scim_urls.py`.
"""
