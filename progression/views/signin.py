"""Sign-in, by email to an IdP or by password, and sign-out."""

import logging
from urllib.parse import urlencode

from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from progression import signin as signin_registry
from progression.forms import EmailForm, PasswordSignInForm

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("progression.security")

SIGNIN_FAILED = "That email and password do not match an active account."
SSO_REQUIRED = (
    "Your organisation signs in with single sign-on. Go back and continue with "
    "your work email to be sent to your identity provider."
)


def _next_url(request) -> str:
    """The page to land on after sign-in: a same-site path, else home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


@require_http_methods(["GET", "POST"])
def signin(request):
    """Ask for an email, then send the person to their IdP or to a password form."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = EmailForm(request.POST or None, initial={"email": request.GET.get("email")})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        url = signin_registry.discover(request, email)
        if url:
            return HttpResponseRedirect(url)
        query = {"email": email}
        next_url = request.POST.get("next")
        if next_url:
            query["next"] = next_url
        return redirect(_with_query(reverse("signin-password"), query))
    return render(
        request,
        "progression/signin.html",
        {"form": form, "next": request.GET.get("next", "")},
    )


def _with_query(url: str, query: dict) -> str:
    return f"{url}?{urlencode(query)}"


@require_http_methods(["GET", "POST"])
def signin_password(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = PasswordSignInForm(
        request.POST or None, initial={"email": request.GET.get("email", "")}
    )
    error = None
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
        )
        if user is not None and signin_registry.password_allowed(user):
            login(request, user)
            return HttpResponseRedirect(_next_url(request))
        if user is not None:
            security_logger.warning(
                "password sign-in refused: sso required", extra={"user_id": user.pk}
            )
            error = SSO_REQUIRED
        else:
            security_logger.warning("password sign-in refused")
            error = SIGNIN_FAILED
    return render(
        request,
        "progression/signin_password.html",
        {
            "form": form,
            "error": error,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=401 if error else 200,
    )


@require_POST
def signout(request):
    """End the session, then go where a sign-in app says (an IdP's logout)."""
    try:
        next_url = signin_registry.signout_continue(request)
    finally:
        # Whatever a step does, the session ends.
        logout(request)
    return redirect(next_url or "signin")
