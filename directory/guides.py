"""Setup guides for each SCIM provider, as shown in the portal."""

from directory.models import Provider

GUIDES = {
    Provider.OKTA_SCIM_V2: {
        "console": "Okta Admin Console",
        "steps": [
            "Applications → your Progression app → General → App Settings → Edit:"
            " set Provisioning to SCIM, then save.",
            "Provisioning → Integration → Edit: paste the SCIM connector base URL"
            " below, set Unique identifier field for users to userName, tick Push"
            " New Users, Push Profile Updates and Push Groups.",
            "Authentication Mode: HTTP Header; paste the bearer token below into"
            " Authorization. Test Connector Configuration, then save.",
            "Provisioning → To App → Edit: enable Create Users, Update User"
            " Attributes and Deactivate Users.",
            "Assignments: assign people or groups. Deactivating or unassigning in"
            " Okta archives the person here.",
        ],
    },
    Provider.OKTA_SCIM_V1_1: {
        "console": "Okta Admin Console",
        "steps": [
            "Use this only for an existing SCIM 1.1 app; new integrations should"
            " choose Okta (SCIM 2.0).",
            "Applications → your app → Provisioning → Integration: paste the base"
            " URL below (it ends in /scim/v1/…) and the bearer token as an HTTP"
            " Header.",
            "Provisioning → To App: enable Create Users, Update User Attributes and"
            " Deactivate Users, then assign people or groups.",
        ],
    },
    Provider.AZURE_SCIM_V2: {
        "console": "Microsoft Entra admin center",
        "steps": [
            "Enterprise applications → New application → Create your own"
            " application → Integrate any other application you don't find in"
            " the gallery.",
            "Provisioning → Get started → Provisioning Mode: Automatic.",
            "Tenant URL: paste the base URL below. It ends in ?aadOptscim062020,"
            " which makes Entra send standard SCIM PATCH requests.",
            "Secret Token: paste the bearer token below, then Test Connection.",
            "Mappings: keep the defaults (userName from userPrincipalName, emails"
            " from mail, department and manager in the enterprise extension).",
            "Users and groups: assign who should have access, then Start"
            " provisioning. Entra runs a cycle about every 40 minutes.",
        ],
    },
    Provider.GENERIC_SCIM_V2: {
        "console": "your identity provider",
        "steps": [
            "Create a SCIM 2.0 provisioning connection in your identity provider.",
            "Base URL: paste the URL below. Authentication: bearer token, the"
            " token below.",
            "Map userName, name.givenName, name.familyName, emails (work, primary)"
            " and active; optionally title and the enterprise department and"
            " manager.",
            "Deactivating a user (active false) or deleting them archives the"
            " person here; reactivating brings the same account back.",
        ],
    },
    Provider.GENERIC_SCIM_V1_1: {
        "console": "your identity provider",
        "steps": [
            "Create a SCIM 1.1 provisioning connection; prefer SCIM 2.0 when your"
            " provider offers both.",
            "Base URL: paste the URL below (it ends in /scim/v1/…). Authentication:"
            " bearer token, the token below.",
        ],
    },
    Provider.RIPPLING: {
        "console": "Rippling",
        "steps": [
            "App Shop → search for a custom SCIM app, or open Progression if it is"
            " listed, and choose SCIM provisioning.",
            "SCIM base URL: paste the URL below. API token: the bearer token below.",
            "Choose which Rippling employees get access; Rippling creates,"
            " updates and deactivates them over SCIM 2.0.",
        ],
    },
}


def base_url_for(directory, public_base_url: str) -> str:
    """The URL an IdP is given; Entra's carries the flag for standard PATCH."""
    url = f"{public_base_url}/scim/{directory.scim_version}/{directory.public_id}"
    if directory.provider == Provider.AZURE_SCIM_V2:
        url += "?aadOptscim062020"
    return url
