"""What every portal page needs: the signed-in person's organisation and menu."""

from django.urls import NoReverseMatch, reverse

# The portal's sections, in menu order: (label, URL name, admins only).
SECTIONS = [
    ("People", "people", True),
    ("Teams", "teams", True),
    ("SSO", "sso:index", True),
    ("Directory", "directory:index", True),
    ("Billing", "billing:index", True),
    ("Audit log", "audit", True),
]


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    nav = []
    for label, url_name, admins_only in SECTIONS:
        if admins_only and not user.is_admin:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        nav.append({"label": label, "url": url, "section": url_name.split(":")[0]})
    return {"organization": user.organization, "nav": nav}
