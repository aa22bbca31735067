"""The project's URLs plus `bench/insert/`, a view that inserts one row."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from progression.models import AuditEvent, Organization
from progression.urls import urlpatterns as project_urlpatterns

_organization_id = []


@csrf_exempt
def insert(request):
    if not _organization_id:
        _organization_id.append(
            Organization.objects.values_list("pk", flat=True).get(slug="bench-saml")
        )
    AuditEvent.objects.create(
        organization_id=_organization_id[0],
        action="bench.insert",
        target_type="bench",
        target_id="0",
    )
    return HttpResponse("ok")


urlpatterns = [path("bench/insert/", insert), *project_urlpatterns]
