"""KMS implementation of ``SecretBox``: webhook secrets encrypted at rest under the stack's key.

Each secret is encrypted with its tenant as the encryption context, so a sealed secret copied to another
tenant's item does not open.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any


@dataclass
class KmsSecretBox:
    """Encrypt and Decrypt with one KMS key (its id, ARN or alias)."""

    client: Any
    key_id: str

    def seal(self, tenant_id: str, secret: str) -> str:
        """See ``SecretBox.seal``."""
        resp = self.client.encrypt(
            KeyId=self.key_id, Plaintext=secret.encode("utf-8"), EncryptionContext={"tenantId": tenant_id}
        )
        return base64.b64encode(resp["CiphertextBlob"]).decode("ascii")

    def open(self, tenant_id: str, sealed: str) -> str:
        """See ``SecretBox.open``."""
        resp = self.client.decrypt(
            KeyId=self.key_id,
            CiphertextBlob=base64.b64decode(sealed),
            EncryptionContext={"tenantId": tenant_id},
        )
        return bytes(resp["Plaintext"]).decode("utf-8")
