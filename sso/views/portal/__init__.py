"""The SSO section of the portal: connections, their setup wizard and log.

Admins only. Every lookup goes through the signed-in admin's organisation, so
another organisation's connection, certificate or attempt answers 404. The
modules, by part of the section:

- `index`: the section's front page and what it posts: a new connection, the
  sign-in policy, domain routing;
- `connections`: a connection's page (the setup wizard), its mapping and
  options, refreshing the IdP's values, activation;
- `saml_setup`: the SAML steps: the IdP's values, its certificates, our SP
  key pair;
- `oidc_setup`: the OIDC steps: the provider's values, our signing key;
- `attempts`: test sign-ins and the log of attempts.
"""
