"""Settings of a fresh project serving plain django-scim2 under gunicorn.

`startproject`'s middleware (the same list as ours, less WhiteNoise), then
the service-user sign-in of `accounts.middleware`. Database settings match
the product's (persistent connections with health checks), so the two
benchmarks differ only in the code behind the URLs. `DATABASE_URL` names the
database; everything else is fixed.
"""

import dj_database_url

SECRET_KEY = "bench-plain-" + "s3cret-key-for-the-benchmark-only-" * 2
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_scim",
    "bench.plain_scim_project.accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bench.plain_scim_project.accounts.middleware.ServiceUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bench.plain_scim_project.urls"
WSGI_APPLICATION = "bench.plain_scim_project.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(conn_max_age=60, conn_health_checks=True)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# django-scim2 as its documentation configures it: the default adapters and
# auth check, stated here so a reader sees nothing is swapped. Its views wrap
# themselves in AUTH_CHECK_MIDDLEWARE (`SCIMView.dispatch`), so that class is
# not listed in MIDDLEWARE too, which would run the check twice.
SCIM_SERVICE_PROVIDER = {
    "NETLOC": "localhost",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauth2",
            "name": "OAuth 2",
            "description": "Oauth 2 implemented with bearer token",
        },
    ],
    "USER_ADAPTER": "django_scim.adapters.SCIMUser",
    "GROUP_ADAPTER": "django_scim.adapters.SCIMGroup",
    "GROUP_MODEL": "bench.plain_scim_project.accounts.models.Group",
    "AUTH_CHECK_MIDDLEWARE": "django_scim.middleware.SCIMAuthCheckMiddleware",
}

SCIM_PLAIN_TOKEN = "Bearer bench-plain-scim-token"
