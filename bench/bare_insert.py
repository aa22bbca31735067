"""The yardstick of the SCIM create benchmarks: a view that inserts one row.

It is the cheapest request that writes to the database: one raw `INSERT` on
the request's connection and an empty 201, through whatever middleware and
gunicorn workers the project around it has. `bench/scim_urls.py` serves it
next to our SCIM endpoints, `bench/plain_scim_project/urls.py` next to plain
django-scim2's, so each ratio divides by the same work done in the same
server.
"""

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

TABLE_CREATE = "CREATE TABLE bench_row (id bigserial PRIMARY KEY, body text)"


@csrf_exempt
def bare_insert(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (body) VALUES (%s)", [request.body[:200]])
    return HttpResponse(status=201)
