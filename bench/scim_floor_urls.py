"""The benchmark's URLs plus the floor of a SCIM create, under `/scim/` so that
it is served by the same handler as our SCIM endpoints."""

from django.urls import path

from bench.scim_floor_view import floor_create
from bench.scim_urls import urlpatterns as bench_urlpatterns

urlpatterns = [
    path("scim/floor/<uuid:public_id>/Users", floor_create),
    *bench_urlpatterns,
]
