"""The gallery key: templates are sealed (AES-256-GCM) at rest and opened only in this process.

The associated data is the reference id, so a ciphertext copied to another row fails to open
instead of matching as someone else.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import uuid
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.abis.settings import AbisSettings

log = logging.getLogger("tuntas.abis")
_AD = b"tuntas.abis.gallery.v1\x00"


class SealingError(Exception):
    """Missing or malformed gallery key, or a ciphertext that does not open."""


@dataclass(frozen=True)
class GalleryKey:
    key: bytes

    def __repr__(self) -> str:  # never print key material
        return "GalleryKey(…)"

    @cached_property
    def _cipher(self) -> AESGCM:  # once: the key schedule costs as much as a sealing
        return AESGCM(self.key)

    def seal(self, reference_id: uuid.UUID, plaintext: bytes) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        return nonce, self._cipher.encrypt(nonce, plaintext, _AD + reference_id.bytes)

    def open(self, reference_id: uuid.UUID, nonce: bytes, ciphertext: bytes) -> bytes:
        try:
            return self._cipher.decrypt(nonce, ciphertext, _AD + reference_id.bytes)
        except InvalidTag:
            raise SealingError(f"gallery entry {reference_id} does not open") from None


def _parse(text: str) -> GalleryKey:
    value = "".join(line.split("#", 1)[0].strip() for line in text.splitlines())
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SealingError("the gallery key must be base64") from None
    if len(key) != 32:
        raise SealingError("the gallery key must be 32 bytes (AES-256)")
    return GalleryKey(key)


def load_key(settings: AbisSettings) -> GalleryKey:
    if settings.gallery_key is not None:
        return _parse(settings.gallery_key.get_secret_value())
    if settings.gallery_key_file is not None:
        return _parse(settings.gallery_key_file.read_text())
    path = settings.home / "keys" / "abis-gallery.key"
    if path.exists():
        return _parse(path.read_text())
    if not settings.generate_gallery_key:
        raise SealingError(
            "no gallery key: set TUNTAS_ABIS_GALLERY_KEY or TUNTAS_ABIS_GALLERY_KEY_FILE"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: two processes starting at once cannot both write a (different) key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _parse(path.read_text())
    with os.fdopen(fd, "w") as f:
        f.write("# Tuntas ABIS gallery key (generated for a local run)\n")
        f.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n")
    log.warning("ABIS gallery key: none configured; generated %s (local use only)", path)
    return _parse(path.read_text())
