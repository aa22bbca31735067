"""What an admin does in each HR system's console, and the credentials we ask for.

Each field is (name, label, kind): `text`, `secret` (never shown back) or
`json` (an object typed as JSON). Blank fields are left out of the
credentials, so one form serves both of Google's kinds of access.
"""

from directory.models import Provider

TEXT, SECRET, JSON = "text", "secret", "json"

HR_GUIDES = {
    Provider.BAMBOOHR: {
        "console": "BambooHR",
        "steps": [
            "Sign in as a BambooHR user who can see every employee, former"
            " employees included: status, hire and termination dates, work email,"
            " supervisor, department and job title. The API key acts with that"
            " user's permissions.",
            "Open your account menu (top right) → API Keys → Add New Key; name it"
            " Progression and copy the key.",
            "Your subdomain is the acme of https://acme.bamboohr.com.",
            "Progression runs a custom report with terminated people included,"
            " so terminations are seen; nothing needs to be built in BambooHR.",
        ],
        "fields": [
            ("subdomain", "Subdomain", TEXT),
            ("api_key", "API key", SECRET),
        ],
    },
    Provider.GUSTO: {
        "console": "Gusto",
        "steps": [
            "In the Gusto developer portal, open your application and copy its"
            " client id and secret.",
            "Have a company admin authorise the application for the company with"
            " read access to the company and its employees; keep the access and"
            " refresh tokens it issues.",
            "The company uuid is the company the tokens were issued for; the"
            " connection test checks that they belong to it.",
            "Refresh tokens are single-use: Progression stores each new one the"
            " moment Gusto issues it.",
        ],
        "fields": [
            ("company_uuid", "Company uuid", TEXT),
            ("client_id", "Client id", TEXT),
            ("client_secret", "Client secret", SECRET),
            ("access_token", "Access token (optional)", SECRET),
            ("refresh_token", "Refresh token", SECRET),
        ],
    },
    Provider.HIBOB: {
        "console": "Bob",
        "steps": [
            "Settings → Integrations → Service users → Create: name it"
            " Progression and copy its id and token.",
            "Add the service user to a permission group that can view, for all"
            " employees including inactive ones: basic info, work (department,"
            " title, reports to) and lifecycle status.",
            "Let the group read company lists too, or departments and titles"
            " arrive as list ids.",
        ],
        "fields": [
            ("service_user_id", "Service user id", TEXT),
            ("token", "Token", SECRET),
        ],
    },
    Provider.WORKDAY: {
        "console": "Workday",
        "steps": [
            "Create an Integration System User and put it in an integration"
            " system security group with view access to the workers and fields"
            " the report shows.",
            "Create an Advanced custom report over active and terminated workers"
            " with one column per field, enable it as a web service and share it"
            " with the integration user.",
            "Copy the report's JSON URL (Actions → Web Service → View URLs → JSON).",
            "Map the report's column names to Progression's fields: external_id"
            " and active are required; email, first_name, last_name, manager_id,"
            " manager_email, department and title are optional.",
        ],
        "fields": [
            ("report_url", "Report JSON URL", TEXT),
            ("username", "Integration user", TEXT),
            ("password", "Password", SECRET),
            ("columns", "Columns (JSON: our field → report column)", JSON),
        ],
    },
    Provider.GOOGLE_WORKSPACE: {
        "console": "Google Admin console",
        "steps": [
            "In a Google Cloud project, enable the Admin SDK API.",
            "Either create an OAuth client and obtain an administrator's consent"
            " with offline access (client id, secret and refresh token), or create"
            " a service account with a JSON key and, in the Admin console"
            " (Security → Access and data control → API controls → Domain-wide"
            " delegation), authorise its client id.",
            "The scopes, each under https://www.googleapis.com/auth/:"
            " admin.directory.user.readonly, admin.directory.group.readonly and"
            " admin.directory.group.member.readonly.",
            "Fill in one kind of access below and save. Then choose the groups"
            " whose members get Progression; only they are provisioned, and"
            " suspended or archived users are archived here.",
        ],
        "fields": [
            ("service_account", "Service account key (JSON)", JSON),
            ("admin_email", "Administrator the service account acts as", TEXT),
            ("client_id", "OAuth client id", TEXT),
            ("client_secret", "OAuth client secret", SECRET),
            ("refresh_token", "Refresh token", SECRET),
        ],
    },
}
