"""Why an OIDC sign-in or discovery is refused: stable codes, clear messages."""

from progression.errors import ProgressionError

REASONS = {
    "provider_error": "The identity provider answered with an error: %s.",
    "state_mismatch": "This sign-in does not match one started in this browser, "
    "or it was already finished. Start the sign-in again.",
    "code_missing": "The identity provider sent no authorization code.",
    "code_rejected": "The identity provider refused the authorization code; it "
    "may have been used already. Start the sign-in again.",
    "token_missing": "The identity provider sent no ID token.",
    "token_malformed": "The ID token cannot be read.",
    "algorithm_refused": "The ID token is signed with an algorithm this "
    "connection does not accept.",
    "unknown_key": "The ID token is signed with a key the identity provider "
    "does not publish.",
    "signature_invalid": "The ID token's signature is invalid.",
    "wrong_issuer": "The ID token comes from another issuer.",
    "wrong_audience": "The ID token was issued for another application.",
    "expired": "The ID token has expired or is not valid yet.",
    "nonce_mismatch": "The ID token answers another sign-in request.",
    "hosted_domain_refused": "This Google account's domain may not sign in here.",
    "tenant_refused": "This Microsoft tenant may not sign in here.",
    "subject_missing": "The ID token names no subject.",
    "not_configured": "This connection has no issuer, client id or client "
    "secret yet, or its discovery document could not be fetched.",
    "discovery_failed": "The discovery document could not be fetched: %s",
    "discovery_invalid": "The discovery document is not valid: %s",
    "issuer_mismatch": "The discovery document names the issuer %s, not the "
    "configured one.",
    "keys_failed": "The identity provider's signing keys could not be fetched.",
    "userinfo_failed": "The identity provider's UserInfo endpoint did not "
    "answer with the person's claims.",
    "userinfo_subject_mismatch": "The identity provider's UserInfo endpoint "
    "answered about another person than the ID token.",
    "client_key_missing": "This connection signs its token requests with its "
    "own key, but has none yet. Generate one on the connection's page.",
    "test_by_other": "This test sign-in was started by another admin.",
    "subject_elsewhere": "Your identity provider account is already linked to "
    "a Progression account in another organisation.",
}


class OidcRejectedError(ProgressionError):
    """An OIDC answer or document we refuse; `code` is one of `REASONS`."""

    def __init__(self, code: str, *args: str):
        message = REASONS[code]
        if args:
            message = message % args
        super().__init__(message, code=code)
