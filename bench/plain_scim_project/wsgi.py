import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.plain_scim_project.settings")
application = get_wsgi_application()
