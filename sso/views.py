from django.shortcuts import render

from progression.access import admin_required


@admin_required
def index(request):
    """The SSO section: the organisation's sign-in connections."""
    return render(request, "sso/index.html", {"section": "sso"})
