"""The OpenID Connect providers we support, with their issuers and guides.

Google and Microsoft come with their issuer preset, so an admin pastes only
the client id and secret; a generic provider needs its issuer too. Guides name
our value by the label the portal shows next to it ("Redirect URI").
"""

from sso.providers import PROVIDERS, Provider

GOOGLE_ISSUER = "https://accounts.google.com"
MICROSOFT_ISSUER = "https://login.microsoftonline.com/organizations/v2.0"
# Entra's multi-tenant discovery names this placeholder where each token's
# issuer carries the tenant id.
TENANT_PLACEHOLDER = "{tenantid}"
DEFAULT_SCOPES = "openid email profile"
# The ways we can authenticate at a token endpoint, in the order offered.
TOKEN_AUTH_METHOD_CHOICES = [
    ("client_secret_basic", "Client secret (HTTP Basic)"),
    ("client_secret_post", "Client secret (in the request body)"),
    ("private_key_jwt", "Signed assertion with our key (private_key_jwt)"),
]


def _claims(subject="sub", email="email", groups=""):
    return {
        "subject": subject,
        "email": email,
        "first_name": "given_name",
        "last_name": "family_name",
        "groups": groups,
    }


OIDC_PROVIDERS: dict[str, Provider] = {
    provider.key: provider
    for provider in [
        Provider(
            key="generic-oidc",
            name="Generic OpenID Connect",
            protocol="oidc",
            signing="Signs ID tokens with an algorithm its discovery document "
            "lists (RS256, ES256 or PS256; never a shared secret).",
            mapping=_claims(groups="groups"),
            steps=(
                "In your identity provider, create an OpenID Connect web "
                "application (confidential client, authorization code flow).",
                "Paste our Redirect URI as its only sign-in redirect URI, and our "
                "Post-logout redirect URI as its sign-out redirect URI.",
                "Allow the scopes openid, email and profile; turn on PKCE (S256) "
                "if the provider asks.",
                "Copy the issuer URL (where /.well-known/openid-configuration is "
                "served), the client id and the client secret for the next step.",
            ),
            traps=(
                "The issuer must be exactly the one in the provider's discovery "
                "document, including a trailing slash if it has one.",
                "Progression refuses ID tokens signed with a shared secret "
                "(HS256): pick an asymmetric signing key in the provider.",
            ),
            issuer_markers=(),
        ),
        Provider(
            key="google-oauth",
            name="Google OAuth (Sign in with Google)",
            protocol="oidc",
            signing="Signs ID tokens with RS256, keys rotated by Google.",
            mapping=_claims(),
            steps=(
                "In the Google Cloud console, open APIs & Services, OAuth consent "
                "screen, and make it Internal to your Workspace organisation.",
                "Open Credentials, Create credentials, OAuth client ID, and pick "
                "Web application. Name it Progression.",
                "Paste our Redirect URI under Authorized redirect URIs and save.",
                "Copy the client ID and client secret for the next step, and "
                "list your Workspace domains as allowed hosted domains.",
            ),
            traps=(
                "Without allowed hosted domains any Google account could sign in; "
                "Progression checks the hd claim in the ID token, not the hint.",
                "Personal Gmail accounts carry no hd claim and are refused once "
                "hosted domains are listed.",
            ),
            issuer_markers=("accounts.google.com",),
        ),
        Provider(
            key="microsoft-oauth",
            name="Microsoft OAuth (Entra ID)",
            protocol="oidc",
            signing="Signs ID tokens with RS256, keys rotated by Microsoft.",
            mapping=_claims(subject="oid", groups="groups"),
            steps=(
                "In the Entra admin center, open App registrations, New "
                "registration, name it Progression and choose the account types "
                "(this organisational directory only, or any).",
                "Under Redirect URI pick Web and paste our Redirect URI; then, "
                "under Authentication, add our Post-logout redirect URI as a "
                "second Web redirect URI: Entra sends people back after "
                "sign-out only to a registered one.",
                "Open Certificates & secrets, New client secret, and copy its "
                "value; copy the Application (client) ID from Overview.",
                "Copy the Directory (tenant) ID from Overview and list it as an "
                "allowed tenant id, then paste the client id and secret here.",
            ),
            traps=(
                "The email claim in Entra tokens can be changed by a tenant's "
                "admins: Progression keys people on the tenant id and object id.",
                "Client secrets expire (24 months at most): note the date and "
                "paste a new one here before it does.",
                "Past 200 groups Entra leaves the groups claim out of the token; "
                "the test sign-in says so. Choose Groups assigned to the "
                "application in Token configuration to stay under it.",
            ),
            issuer_markers=("login.microsoftonline.com",),
        ),
    ]
}

PRESET_ISSUERS = {
    "google-oauth": GOOGLE_ISSUER,
    "microsoft-oauth": MICROSOFT_ISSUER,
}

SSO_PROVIDERS: dict[str, Provider] = {**PROVIDERS, **OIDC_PROVIDERS}
SSO_PROVIDER_CHOICES = [(p.key, p.name) for p in SSO_PROVIDERS.values()]
