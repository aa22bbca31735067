from django import forms

from sso.oidc.providers import SSO_PROVIDER_CHOICES, TOKEN_AUTH_METHOD_CHOICES

MAX_METADATA_BYTES = 1024 * 1024
METADATA_TOO_LARGE = "The metadata file is larger than 1 MB."
METADATA_EMPTY = "Upload the metadata file, paste its XML, or give its URL."


class NewConnectionForm(forms.Form):
    provider = forms.ChoiceField(choices=SSO_PROVIDER_CHOICES)


class MetadataForm(forms.Form):
    file = forms.FileField(required=False, label="Metadata file")
    xml = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Metadata XML"
    )
    url = forms.URLField(
        required=False, max_length=2048, label="Metadata URL", assume_scheme="https"
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_METADATA_BYTES:
                raise forms.ValidationError(METADATA_TOO_LARGE)
            data["xml"] = upload.read()
        if not data.get("xml") and not data.get("url"):
            raise forms.ValidationError(METADATA_EMPTY)
        return data


class ManualIdpForm(forms.Form):
    entity_id = forms.CharField(max_length=1024, label="IdP entity ID (issuer)")
    sso_url = forms.CharField(max_length=2048, label="Sign-in URL (HTTP-Redirect)")
    slo_url = forms.CharField(
        max_length=2048, required=False, label="Logout URL (optional)"
    )
    certificate = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Signing certificate (PEM)",
    )


class SettingsForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    subject = forms.CharField(max_length=300, required=False, label="Subject")
    email = forms.CharField(max_length=300, required=False, label="Email")
    first_name = forms.CharField(max_length=300, required=False, label="First name")
    last_name = forms.CharField(max_length=300, required=False, label="Last name")
    groups = forms.CharField(max_length=300, required=False, label="Groups")
    allow_idp_initiated = forms.BooleanField(
        required=False, label="Allow sign-in started at the IdP (dashboard tile)"
    )
    allow_sha1 = forms.BooleanField(
        required=False, label="Accept SHA-1 signatures (weak; switch the IdP instead)"
    )
    jit_provisioning = forms.BooleanField(
        required=False, label="Create an account on first sign-in (JIT)"
    )


class CertificateForm(forms.Form):
    certificate = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), label="Certificate (PEM)"
    )


class PolicyForm(forms.Form):
    require_sso = forms.BooleanField(
        required=False, label="Require SSO for members (admins keep password sign-in)"
    )


def _split(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


class OidcClientForm(forms.Form):
    issuer = forms.CharField(max_length=1024, required=False, label="Issuer URL")
    client_id = forms.CharField(max_length=255, label="Client id")
    client_secret = forms.CharField(
        max_length=2048,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        label="Client secret",
    )
    scopes = forms.CharField(max_length=300, required=False, label="Scopes")
    hosted_domains = forms.CharField(
        max_length=2000, required=False, label="Allowed hosted domains (hd)"
    )
    tenant_ids = forms.CharField(
        max_length=2000, required=False, label="Allowed tenant ids (tid)"
    )
    token_auth_method = forms.ChoiceField(
        choices=[("", "Client secret, as the provider prefers")]
        + TOKEN_AUTH_METHOD_CHOICES,
        required=False,
        label="Token endpoint authentication",
    )

    def __init__(self, *args, offered=None, **kwargs):
        super().__init__(*args, **kwargs)
        if offered is not None:
            # Only what the provider's discovery document lists is offered.
            field = self.fields["token_auth_method"]
            field.choices = [
                (value, label)
                for value, label in field.choices
                if not value or value in offered
            ]

    def clean_hosted_domains(self):
        return _split(self.cleaned_data["hosted_domains"])

    def clean_tenant_ids(self):
        return _split(self.cleaned_data["tenant_ids"])
