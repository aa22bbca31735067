from django.shortcuts import render

from progression.access import admin_required


@admin_required
def index(request):
    """The Directory section: where people are provisioned from."""
    return render(request, "directory/index.html", {"section": "directory"})
