import pytest
from cryptography.fernet import Fernet

from progression import crypto


def test_encrypt_round_trip_hides_the_plaintext():
    token = crypto.encrypt("client-secret-value")

    assert "client-secret-value" not in token
    assert crypto.decrypt(token) == "client-secret-value"


def test_decrypt_after_rotation_reads_old_values(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = [old_key]
    token = crypto.encrypt("kept")

    settings.SECRETS_ENCRYPTION_KEYS = [new_key, old_key]

    assert crypto.decrypt(token) == "kept"


def test_decrypt_with_unknown_key_raises_project_error(settings):
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = crypto.encrypt("lost")
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.SecretUnreadableError):
        crypto.decrypt(token)
