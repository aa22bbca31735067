"""Fixtures shared with other test packages: the browser and the SAML IdP peer."""

from tests.browser.conftest import browser, page  # noqa: F401
from tests.sso.conftest import acme_domain, public_base, saml_idp  # noqa: F401
