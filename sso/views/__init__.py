"""The SSO section of the portal and the SAML protocol endpoints."""
