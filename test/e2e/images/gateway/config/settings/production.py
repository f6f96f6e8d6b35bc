"""Production settings: DEBUG off unless asked, SECRET_KEY mandatory."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import DEBUG, SECRET_KEY

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is not set: it is required in production (set the SECRET_KEY environment variable)")
if DEBUG:
    import logging

    logging.getLogger(__name__).warning("DEBUG is on in production settings")
