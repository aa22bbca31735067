import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progression.settings")

# After Django is set up by get_wsgi_application.
from progression.handlers import split_application  # noqa: E402

application = split_application(get_wsgi_application())
