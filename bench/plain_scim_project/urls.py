"""django-scim2's URLs under `scim/v2/`, plus the bare insert view."""

from django.urls import include, path

from bench.bare_insert import bare_insert

urlpatterns = [
    path("bench/bare-insert/", bare_insert),
    path("scim/v2/", include("django_scim.urls", namespace="scim")),
]
