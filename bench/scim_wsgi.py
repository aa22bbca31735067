import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.scim_settings")

# Served as production serves the project (`progression/wsgi.py`).
from progression.handlers import split_application  # noqa: E402

application = split_application(get_wsgi_application())
