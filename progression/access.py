"""Who may see a portal page: signed-in people, and admins for most sections."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

ADMINS_ONLY = "This page is for your organisation's admins."


def admin_required(view):
    """Let only signed-in admins through; members get a page that says why."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_admin:
            return render(
                request,
                "progression/forbidden.html",
                {"message": ADMINS_ONLY},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapped
