"""The SAML IdP peer's fixtures, for the bolt-on flow through a real sign-in."""

from tests.sso.conftest import acme_domain, public_base, saml_idp  # noqa: F401
