"""The SAML identity providers we support, what each sends and how to set it up.

Each provider carries the attribute names its admin console sends by default
(so the mapping starts right), where it puts its signature, and a setup guide
written for that console: where to click, which of our values to paste, and
the traps its admins fall into. Guides name our values by the labels the
portal shows next to them ("ACS URL", "Entity ID", "SP metadata").
"""

from dataclasses import dataclass, field

XMLSOAP = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
MS_CLAIMS = "http://schemas.microsoft.com/identity/claims"

# The fields a connection maps from the IdP's attributes. "subject" names an
# attribute that identifies the person for good; empty means the NameID.
MAPPED_FIELDS = ("subject", "email", "first_name", "last_name", "groups")


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    signing: str
    mapping: dict
    steps: tuple[str, ...]
    traps: tuple[str, ...] = ()
    metadata_by_url: bool = True
    metadata_url_hint: str = ""
    entity_id_hint: str = ""
    wants_encryption: bool = False
    has_slo: bool = True
    issuer_markers: tuple[str, ...] = field(default=())
    protocol: str = "saml"


def _mapping(subject="", email="email", first="firstName", last="lastName", groups=""):
    return {
        "subject": subject,
        "email": email,
        "first_name": first,
        "last_name": last,
        "groups": groups,
    }


PROVIDERS: dict[str, Provider] = {
    provider.key: provider
    for provider in [
        Provider(
            key="auth0-saml",
            name="Auth0",
            signing="Signs the assertion only, unless signResponse is turned on.",
            mapping=_mapping(
                email=f"{XMLSOAP}/emailaddress",
                first=f"{XMLSOAP}/givenname",
                last=f"{XMLSOAP}/surname",
                groups="http://schemas.auth0.com/groups",
            ),
            steps=(
                "In the Auth0 dashboard, open Applications, create a Regular Web "
                "Application named Progression and open its Addons tab.",
                "Turn on the SAML2 Web App addon. In Settings, paste our ACS URL "
                "as the Application Callback URL.",
                'In the addon\'s Settings JSON, set "audience" to our Entity ID '
                'and set "signatureAlgorithm": "rsa-sha256" and '
                '"digestAlgorithm": "sha256".',
                "Save, open the addon's Usage tab and download the Identity "
                "Provider Metadata; upload it in the next step.",
            ),
            traps=(
                "Auth0 signs with SHA-1 unless you change signatureAlgorithm and "
                "digestAlgorithm: Progression refuses SHA-1 signatures.",
                "Leave the audience empty and Auth0 uses the callback URL, which "
                "Progression refuses as a wrong audience.",
            ),
            metadata_url_hint="https://<tenant>.auth0.com/samlp/metadata/<client id>",
            issuer_markers=("auth0.com",),
        ),
        Provider(
            key="azure-saml",
            name="Microsoft Entra ID (Azure AD)",
            signing="Signs the assertion only by default (token signing policy).",
            mapping=_mapping(
                subject=f"{MS_CLAIMS}/objectidentifier",
                email=f"{XMLSOAP}/emailaddress",
                first=f"{XMLSOAP}/givenname",
                last=f"{XMLSOAP}/surname",
                groups="http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            ),
            steps=(
                "In the Entra admin center, open Enterprise applications, New "
                "application, Create your own application, and pick Integrate "
                "any other application you don't find in the gallery.",
                "Open Single sign-on, choose SAML, and in Basic SAML Configuration "
                "paste our Entity ID as Identifier and our ACS URL as Reply URL.",
                "In Attributes & Claims keep emailaddress, givenname and surname; "
                "add a group claim if you want groups sent.",
                "In SAML Certificates, copy the App Federation Metadata Url (or "
                "download Federation Metadata XML) for the next step.",
                "Under Users and groups, assign the people who may sign in.",
            ),
            traps=(
                "Guests arrive with a UPN such as name_domain#EXT#@tenant: "
                "Progression keys people on the object identifier claim instead.",
                "Past 150 groups Entra leaves the groups claim out entirely.",
                "Entra signing certificates expire after three years; add the new "
                "one here before activating it in Entra.",
            ),
            metadata_url_hint="https://login.microsoftonline.com/<tenant>/"
            "federationmetadata/2007-06/federationmetadata.xml?appid=<app id>",
            entity_id_hint="https://sts.windows.net/<tenant id>/",
            issuer_markers=("sts.windows.net", "login.microsoftonline.com"),
        ),
        Provider(
            key="generic-saml",
            name="Generic SAML 2.0",
            signing="Ask for a signed response and a signed assertion, RSA-SHA256.",
            mapping=_mapping(
                email=f"{XMLSOAP}/emailaddress",
                first=f"{XMLSOAP}/givenname",
                last=f"{XMLSOAP}/surname",
                groups="groups",
            ),
            steps=(
                "Create a SAML 2.0 application (service provider) in your "
                "identity provider.",
                "Give it our Entity ID as the audience / SP entity ID and our ACS "
                "URL as the assertion consumer service, HTTP-POST binding. Or "
                "import our SP metadata in one go.",
                "Sign the response and the assertion with RSA-SHA256; send the "
                "email address as NameID (emailAddress format) and as the "
                "emailaddress claim, plus givenname and surname.",
                "Export the IdP metadata (file or URL) for the next step.",
            ),
            issuer_markers=(),
        ),
        Provider(
            key="google-saml",
            name="Google Workspace",
            signing="Signs the assertion; a signed response is optional.",
            mapping=_mapping(groups="groups"),
            steps=(
                "In the Google Admin console open Apps, Web and mobile apps, Add "
                "app, Add custom SAML app, and name it Progression.",
                "On the Google Identity Provider details page, download the IdP "
                "metadata file; you will upload it in the next step.",
                "On the Service provider details page paste our ACS URL and our "
                "Entity ID; set Name ID format to EMAIL and Name ID to Basic "
                "Information > Primary email.",
                "In Attribute mapping map Primary email to email, First name to "
                "firstName and Last name to lastName; add Group membership as "
                "groups if you want groups.",
                "Open the app's User access and turn it ON for everyone (or the "
                "groups who may sign in).",
            ),
            traps=(
                "Google publishes no metadata URL: when its certificate rotates, "
                "download the new metadata and add the certificate here.",
                "An app left OFF gives people a Google 403 error, not a sign-in.",
                "Group membership sends at most 75 groups.",
                "Google has no single logout: signing out of Progression does not "
                "sign you out of Google.",
            ),
            metadata_by_url=False,
            entity_id_hint="https://accounts.google.com/o/saml2?idpid=<id>",
            has_slo=False,
            issuer_markers=("accounts.google.com",),
        ),
        Provider(
            key="jumpcloud-saml",
            name="JumpCloud",
            signing="Signs the assertion (choose Assertion or Response in the app).",
            mapping=_mapping(first="firstname", last="lastname", groups="memberOf"),
            steps=(
                "In the JumpCloud admin portal open SSO Applications, Add New "
                "Application, Custom Application, and pick Manage Single Sign-On "
                "with SAML 2.0.",
                "Give the IdP Entity ID a value unique to this app; paste our "
                "Entity ID as SP Entity ID and our ACS URL as ACS URL.",
                "Tick Declare Redirect Endpoint. Set SAMLSubject NameID to email.",
                "Add attributes email (email), firstname (firstname) and lastname "
                "(lastname); tick Include group attribute for groups.",
                "Save, then Export Metadata and upload the file in the next step. "
                "Bind the user groups who may sign in.",
            ),
            traps=(
                "Without Declare Redirect Endpoint JumpCloud rejects the sign-in "
                "request Progression sends.",
                "JumpCloud's IdP Entity ID is free text: it must match the one in "
                "the metadata you upload here.",
            ),
            metadata_by_url=False,
            has_slo=False,
            issuer_markers=("jumpcloud.com",),
        ),
        Provider(
            key="okta-saml",
            name="Okta",
            signing="Signs the response and the assertion.",
            mapping=_mapping(groups="groups"),
            steps=(
                "In the Okta admin console open Applications, Create App "
                "Integration, and choose SAML 2.0. Name it Progression.",
                "Paste our ACS URL as Single sign-on URL (keep Use this for "
                "Recipient URL and Destination URL ticked) and our Entity ID as "
                "Audience URI (SP Entity ID).",
                "Set Name ID format to EmailAddress and Application username to Email.",
                "Add attribute statements email = user.email, firstName = "
                "user.firstName, lastName = user.lastName; add a group attribute "
                "statement named groups with a filter if you want groups.",
                "Finish, open the Sign On tab and copy the Metadata URL for the "
                "next step. Assign the people or groups who may sign in.",
            ),
            traps=(
                "Okta's single logout needs a signed logout request: upload our "
                "SP certificate in the app's advanced settings to use it.",
                "A group attribute statement without a filter sends no groups.",
            ),
            metadata_url_hint="https://<org>.okta.com/app/<app id>/sso/saml/metadata",
            entity_id_hint="http://www.okta.com/<app id>",
            issuer_markers=("okta.com", "oktapreview.com"),
        ),
        Provider(
            key="onelogin-saml",
            name="OneLogin",
            signing="Signs what the app's SAML signature element says.",
            mapping=_mapping(groups="memberOf"),
            steps=(
                "In OneLogin open Applications, Add App, and pick SAML Custom "
                "Connector (Advanced). Name it Progression.",
                "In Configuration paste our Entity ID as Audience (EntityID), our "
                "ACS URL as Recipient and ACS (Consumer) URL, and a validator "
                "that matches it exactly, such as ^<ACS URL>$.",
                "Set SAML initiator to Service Provider, SAML nameID format to "
                "Email, SAML signature element to Both and the SAML signature "
                "algorithm to SHA-256.",
                "In Parameters add email, firstName and lastName and tick Include "
                "in SAML assertion on each.",
                "Save, then copy the Issuer URL under SSO (or More Actions, SAML "
                "Metadata) for the next step.",
            ),
            traps=(
                "A parameter without Include in SAML assertion ticked is silently "
                "left out of the assertion.",
                "OneLogin may default to SHA-1 signatures, which Progression "
                "refuses; choose SHA-256.",
                "The ACS (Consumer) URL Validator is a regular expression: escape "
                "nothing and anchor it, or every sign-in fails at OneLogin.",
            ),
            metadata_url_hint="https://app.onelogin.com/saml/metadata/<uuid>",
            issuer_markers=("onelogin.com",),
        ),
        Provider(
            key="pingfederate-saml",
            name="PingFederate",
            signing="Signs the whole response by default; the assertion on request.",
            mapping=_mapping(groups="memberOf"),
            steps=(
                "In the PingFederate administrative console open Applications, "
                "SP Connections, and create a connection using the Browser SSO "
                "profile (SAML 2.0). Import our SP metadata, or enter our Entity "
                "ID as Partner's Entity ID.",
                "In Assertion Creation, extend the attribute contract with email, "
                "firstName and lastName (names are case-sensitive) and map "
                "SAML_SUBJECT to the email address.",
                "In Protocol Settings add our ACS URL with the POST binding; keep "
                "the response signed, RSA-SHA256.",
                "Activate the connection and export the IdP metadata for it (or "
                "copy its metadata URL) for the next step.",
            ),
            traps=(
                "Attribute contract names are case-sensitive: the mapping here "
                "must use exactly the same spelling.",
                "A transient or pseudonym SAML_SUBJECT changes on every sign-in; "
                "map subject to a stable attribute if you use one.",
            ),
            metadata_url_hint="https://<host>/pf/federation_metadata.ping"
            "?PartnerSpId=<our entity id>",
            issuer_markers=(),
        ),
        Provider(
            key="pingone-saml",
            name="PingOne",
            signing="Signs the assertion.",
            mapping=_mapping(groups="memberOf"),
            steps=(
                "In the PingOne admin console open Applications, add an "
                "application of type SAML Application named Progression.",
                "Import our SP metadata, or paste our ACS URL as ACS URLs and our "
                "Entity ID as Entity ID.",
                "In Attribute Mappings map saml_subject to Email Address and add "
                "email (Email Address), firstName (Given Name) and lastName "
                "(Family Name).",
                "Open Configuration, Download Metadata, and upload the file in "
                "the next step. Toggle the application on.",
            ),
            traps=(
                "A disabled PingOne application refuses every sign-in with an "
                "error page at PingOne.",
                "PingOne may send the NameID without a format; that is accepted.",
            ),
            metadata_by_url=False,
            entity_id_hint="https://auth.pingone.com/<environment id>",
            issuer_markers=("pingone.com", "pingone.eu", "pingone.asia"),
        ),
        Provider(
            key="shibboleth-saml",
            name="Shibboleth IdP",
            signing="Signs the response (signResponses) and encrypts the assertion.",
            mapping=_mapping(
                subject="urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
                email="urn:oid:0.9.2342.19200300.100.1.3",
                first="urn:oid:2.5.4.42",
                last="urn:oid:2.5.4.4",
                groups="urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
            ),
            steps=(
                "Download our SP metadata and add it to your IdP as a metadata "
                "provider (for example a FilesystemMetadataProvider in "
                "metadata-providers.xml).",
                "Release mail, givenName, sn and eduPersonPrincipalName (and "
                "isMemberOf for groups) to our Entity ID in attribute-filter.xml.",
                "Keep the SAML2.SSO profile's defaults: responses signed and "
                "assertions encrypted to the encryption certificate in our SP "
                "metadata.",
                "Give us your IdP metadata (usually https://<host>/idp/shibboleth) "
                "in the next step.",
            ),
            traps=(
                "Shibboleth encrypts assertions by default: generate the SP key "
                "pair here before you export our SP metadata.",
                "The NameID is usually transient: Progression keys people on "
                "eduPersonPrincipalName, not on the NameID.",
            ),
            metadata_url_hint="https://<host>/idp/shibboleth",
            wants_encryption=True,
            issuer_markers=("/idp/shibboleth",),
        ),
        Provider(
            key="vmware-saml",
            name="VMware Workspace ONE Access",
            signing="Signs the assertion.",
            mapping=_mapping(groups="groups"),
            steps=(
                "In the Workspace ONE Access console open Resources, Web Apps, "
                "New, and name the app Progression.",
                "Choose SAML 2.0 as the authentication type and paste our SP "
                "metadata URL (or the metadata XML) in Configuration.",
                "Set the username format to email and add custom attributes "
                "email, firstName and lastName from the user's profile.",
                "Copy the IdP metadata URL from Settings, SAML Metadata (it is "
                "also the IdP's entity ID) for the next step, and assign the app.",
            ),
            traps=(
                "The IdP's entity ID is its metadata URL: paste it whole, "
                "including the https:// and the path.",
            ),
            metadata_url_hint="https://<tenant>/SAAS/API/1.0/GET/metadata/idp.xml",
            issuer_markers=("vmwareidentity.", "workspaceone.com"),
        ),
        Provider(
            key="cyberark-saml",
            name="CyberArk Identity",
            signing="Signs the response or assertion, as configured on the app.",
            mapping=_mapping(groups="groups"),
            steps=(
                "In the CyberArk Identity Admin Portal open Apps & Widgets, Web "
                "Apps, Add Web Apps, Custom, and pick SAML. Name it Progression.",
                "In Trust, choose Manual Configuration and paste our Entity ID as "
                "SP Entity ID and our ACS URL as Assertion Consumer Service URL; "
                "choose the response signing you prefer, SHA-256.",
                "In SAML Response add attributes email, firstName and lastName "
                "from LoginUser.Email, LoginUser.FirstName and "
                "LoginUser.LastName.",
                "In Trust, copy the IdP metadata URL for the next step, then add "
                "the roles who may sign in under Permissions.",
            ),
            traps=(
                "The NameID defaults to the login name, which may not be an "
                "email: Progression then needs the email attribute.",
            ),
            metadata_url_hint="https://<tenant>.id.cyberark.cloud/saasManage/"
            "DownloadSAMLMetadataForApp?appkey=<uuid>&customerid=<id>",
            issuer_markers=("cyberark.cloud", "centrify.com", "idaptive.app"),
        ),
    ]
}

PROVIDER_CHOICES = [(provider.key, provider.name) for provider in PROVIDERS.values()]


def provider_get(key: str) -> Provider | None:
    return PROVIDERS.get(key)
