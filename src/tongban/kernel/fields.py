"""Model fields for personal data at rest."""

from __future__ import annotations

from typing import Any

from django.db import models

from tongban.kernel.crypto import get_crypto_provider


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored encrypted through the CryptoProvider.

    The database only ever sees ciphertext; the model sees plaintext. Pair it
    with a blind-index column for lookups, since ciphertexts are randomized.
    """

    def __init__(self, *args: Any, purpose: str = "", **kwargs: Any) -> None:
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return get_crypto_provider().decrypt(value, purpose=self.purpose)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return get_crypto_provider().encrypt(str(value), purpose=self.purpose)
