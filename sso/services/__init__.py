"""Every write to SSO connections, their certificates and the login log.

Views, the operator commands and tasks call these. Each validates first and
changes nothing on bad input; each change is audited on the connection's
organisation. The modules, by subject:

- `connections`: a connection's life: create, mapping and flags, our SP key
  pair, activation and deactivation;
- `idp`: the IdP's values of a SAML connection, typed by hand or taken from
  its metadata;
- `certificates`: the IdP's signing certificates and their expiry;
- `policy`: the organisation's "require SSO" policy and what it allows;
- `attempts`: the log of sign-in attempts.

Callers import each name from the module that defines it.
"""
