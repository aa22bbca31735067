"""Secrets at rest: OIDC client secrets, HR-system credentials, SP private keys.

Values are encrypted with Fernet (AES-128-CBC with HMAC-SHA256) under the keys in
`settings.SECRETS_ENCRYPTION_KEYS`; the first key encrypts, every key decrypts,
so a key is rotated by putting a new one first and re-saving the rows.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

from progression.errors import ProgressionError


class SecretUnreadableError(ProgressionError):
    code = "secret_unreadable"


def _fernet() -> MultiFernet:
    keys = settings.SECRETS_ENCRYPTION_KEYS or [_derived_key(settings.SECRET_KEY)]
    return MultiFernet([Fernet(key) for key in keys])


def _derived_key(secret: str) -> bytes:
    digest = hashlib.sha256(b"progression-secrets-at-rest:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError(
            "A stored secret cannot be decrypted with the configured keys."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plaintext.

    It cannot be filtered on: the same value encrypts differently every time.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
