"""Test settings: the production settings with the HTTPS-only parts off and fast hashing."""

import os

# Applied while the production settings load, then taken back out of the environment so that
# processes the tests start (the server, workers) see the real defaults.
_TEST_ENVIRONMENT = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "HUEY_IMMEDIATE": "true",
}
_added = [key for key in _TEST_ENVIRONMENT if key not in os.environ]
for _key in _added:
    os.environ[_key] = _TEST_ENVIRONMENT[_key]

from lodestar.settings import *  # noqa: E402, F403

for _key in _added:
    del os.environ[_key]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 — whitenoise wants it to exist
# Many tests sign in and call the API from one address within a minute; the tests of the limits
# lower them with override_settings.
LOGIN_RATE_PER_MINUTE = 10_000
PASSWORD_RESET_RATE_PER_HOUR = 10_000
PASSWORD_RESET_EMAIL_RATE_PER_HOUR = 10_000
API_RATE_PER_MINUTE = 1_000_000
# Test runs share the var folder's password-check locks; the test of the cap lowers it.
LOGIN_CONCURRENT_CHECKS = 1_000
