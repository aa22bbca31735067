"""OpenID Connect sign-in: discovery, keys, ID token checks, the code flow.

`sso.oidc` owns mozilla-django-oidc and PyJWT for the rest of `sso`; their
names do not leak elsewhere. The flow ends, like SAML's, in
`sso.signin.identity_sign_in`.
"""
