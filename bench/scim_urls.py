"""The project's URLs plus `bench/bare-insert/`, a view that inserts one row.

The bare view is the yardstick: the cheapest request that writes to the same
database, through the same Django, middleware and gunicorn workers.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from progression.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def bare_insert(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (body) VALUES (%s)", [request.body[:200]])
    return HttpResponse(status=201)


urlpatterns = [path("bench/bare-insert/", bare_insert), *project_urlpatterns]
