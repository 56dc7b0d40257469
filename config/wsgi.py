import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Import every view now, while the worker boots, not during its first request: the views pull in
# Pillow, fpdf2 and the map shapes (about a second on two cores), which a signer's first page
# would otherwise wait for.
_ = get_resolver().url_patterns
