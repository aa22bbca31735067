"""The project's URLs plus `bench/bare-insert/`, a view that inserts one row.

The bare view is the yardstick: the cheapest request that writes to the same
database, through the same Django, middleware and gunicorn workers.
"""

from django.urls import path

from bench.bare_insert import bare_insert
from progression.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("bench/bare-insert/", bare_insert), *project_urlpatterns]
