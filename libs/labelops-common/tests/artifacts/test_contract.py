"""The artifact-storage contract, the same tests over local disk, S3, GCS and Azure Blob.

Each cloud backend runs against its emulator: moto's server (S3), fake-gcs-server (GCS) and
Azurite (Azure Blob). Assertions look at the raw bucket too, not only through the storage.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from labelops_common.artifacts import ArtifactStorage, ArtifactStorageError

from .conftest import Backend

#: Bytes whose every 64 KiB chunk differs, so a dropped or reordered chunk shows.
CHUNK = 64 * 1024
PAYLOAD_CHUNKS = [bytes([index % 251]) * CHUNK + index.to_bytes(4, "big") for index in range(96)]
PAYLOAD = b"".join(PAYLOAD_CHUNKS)  # about 6 MiB: two S3 parts, ~24 GCS chunks / Azure blocks


def verify_gcs_v4_signature(url: str, public_key: rsa.RSAPublicKey) -> None:
    """Check a GCS V4 signed URL as GCS does (its documented canonical request); raises
    InvalidSignature if any signed part was changed."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    fields = dict(query)
    assert fields["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert fields["X-Goog-SignedHeaders"] == "host"
    signed = sorted((name, value) for name, value in query if name != "X-Goog-Signature")
    canonical_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in signed)
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = fields["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        [
            "GOOG4-RSA-SHA256",
            fields["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    public_key.verify(
        bytes.fromhex(fields["X-Goog-Signature"]),
        string_to_sign.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def written(storage: ArtifactStorage, key: str, data: bytes) -> None:
    writer = storage.writer(key)
    writer.write(data)
    writer.commit()


def read_all(storage: ArtifactStorage, key: str, chunk_size: int = 256 * 1024) -> bytes:
    return b"".join(storage.read(key, chunk_size=chunk_size))


def test_round_trip_many_chunks(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    writer = storage.writer("exports/1/2.json")
    writer.write_all(PAYLOAD_CHUNKS)
    assert writer.size == len(PAYLOAD)
    assert writer.md5 == hashlib.md5(PAYLOAD, usedforsecurity=False).hexdigest()
    writer.commit()

    assert storage.exists("exports/1/2.json")
    chunks = list(storage.read("exports/1/2.json", chunk_size=100_000))
    assert b"".join(chunks) == PAYLOAD
    assert len(chunks) > 1 and max(len(chunk) for chunk in chunks) <= 100_000
    assert backend.raw_names(prefix) == {f"{prefix}exports/1/2.json"}
    assert backend.pending_uploads(prefix) == 0


def test_empty_artifact(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    written(storage, "empty.json", b"")
    assert storage.exists("empty.json") and read_all(storage, "empty.json") == b""


def test_nothing_visible_before_commit(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    writer = storage.writer("exports/1/3.json")
    writer.write_all(PAYLOAD_CHUNKS)  # several parts/chunks/blocks are already uploaded

    assert not storage.exists("exports/1/3.json")
    with pytest.raises(FileNotFoundError):
        storage.read("exports/1/3.json")
    assert f"{prefix}exports/1/3.json" not in backend.raw_names(prefix)
    # S3 shows the streaming: a multipart upload is open, its first part already sent.
    assert backend.pending_uploads(prefix) == (1 if backend.name == "s3" else 0)

    writer.commit()
    assert backend.pending_uploads(prefix) == 0
    assert read_all(storage, "exports/1/3.json") == PAYLOAD


def test_abort_leaves_nothing(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    for payload in (PAYLOAD_CHUNKS, [b"small"]):
        writer = storage.writer("exports/1/4.json")
        writer.write_all(payload)
        writer.abort()

    assert not storage.exists("exports/1/4.json")
    with pytest.raises(FileNotFoundError):
        storage.read("exports/1/4.json")
    assert backend.raw_names(prefix) == set()
    assert backend.pending_uploads(prefix) == 0


def test_abort_keeps_the_previous_version(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    written(storage, "kept.json", b"first")
    writer = storage.writer("kept.json")
    writer.write_all(PAYLOAD_CHUNKS)
    writer.abort()
    assert read_all(storage, "kept.json") == b"first"
    assert backend.raw_names(prefix) == {f"{prefix}kept.json"}


def test_overwrite_replaces_whole(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    written(storage, "a/b.json", PAYLOAD)
    written(storage, "a/b.json", b"second version")
    assert read_all(storage, "a/b.json") == b"second version"
    written(storage, "a/b.json", PAYLOAD[:-7])
    assert read_all(storage, "a/b.json") == PAYLOAD[:-7]
    assert backend.raw_names(prefix) == {f"{prefix}a/b.json"}


def test_delete_is_idempotent(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    written(storage, "gone.json", b"x")
    storage.delete("gone.json")
    assert not storage.exists("gone.json")
    storage.delete("gone.json")
    storage.delete("never/was.json")
    assert backend.raw_names(prefix) == set()


def test_prefix_applied_to_every_key(backend: Backend, prefix: str) -> None:
    nested = backend.make(prefix + "tenant/")
    written(nested, "exports/9/1.json", b"one")
    written(nested, "exports/9/2.json", b"two")
    assert backend.raw_names(prefix) == {
        f"{prefix}tenant/exports/9/1.json",
        f"{prefix}tenant/exports/9/2.json",
    }
    outer = backend.make(prefix)
    assert read_all(outer, "tenant/exports/9/1.json") == b"one"
    assert not outer.exists("exports/9/1.json")
    nested.delete("exports/9/1.json")
    assert backend.raw_names(prefix) == {f"{prefix}tenant/exports/9/2.json"}


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../up.json", "a/../../b", "a\\b.json", "nul\x00.json", "a/.."]
)
def test_bad_keys_refused(backend: Backend, prefix: str, key: str) -> None:
    storage = backend.make(prefix)
    with pytest.raises(ValueError, match="invalid artifact key"):
        storage.writer(key)
    for operation in (storage.read, storage.exists, storage.delete):
        with pytest.raises(ValueError, match="invalid artifact key"):
            operation(key)
    with pytest.raises(ValueError, match="invalid artifact key"):
        storage.presigned_url(key, expires_seconds=60)
    assert backend.raw_names(prefix) == set()


def test_presigned_url_downloads(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    written(storage, "exports/5/6.json", PAYLOAD)
    url = storage.presigned_url("exports/5/6.json", expires_seconds=300, filename="snap.json")
    if backend.name == "local":
        assert url is None  # files on disk are only served through the API
        return
    assert url is not None
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.content == PAYLOAD
    query = parse_qs(urlsplit(url).query)
    if backend.name == "s3":
        assert query["X-Amz-Expires"] == ["300"]
        assert answer.headers["content-disposition"] == 'attachment; filename="snap.json"'
    elif backend.name == "gcs":
        # fake-gcs-server serves the URL without checking it: check the V4 signature here.
        assert query["X-Goog-Expires"] == ["300"]
        assert backend.signature_key is not None
        verify_gcs_v4_signature(url, backend.signature_key)
        longer = url.replace("X-Goog-Expires=300", "X-Goog-Expires=3000")
        with pytest.raises(InvalidSignature):
            verify_gcs_v4_signature(longer, backend.signature_key)
    else:
        assert query["sp"] == ["r"] and query["rscd"] == ['attachment; filename="snap.json"']
        assert answer.headers["content-disposition"] == 'attachment; filename="snap.json"'
        # Azurite validates SAS signatures: a tampered one is refused.
        tampered = url.replace("sp=r", "sp=rw")
        assert httpx.get(tampered, timeout=30).status_code == 403


def test_presigned_url_refuses_bad_expiry(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    for seconds in (0, -1, 7 * 24 * 3600 + 1):
        with pytest.raises(ValueError, match="expires_seconds"):
            storage.presigned_url("a.json", expires_seconds=seconds)


def test_wrong_bucket_or_credential_is_one_error(backend: Backend, prefix: str) -> None:
    storage = backend.make(prefix)
    storage.check()
    cases = backend.broken()
    if backend.name == "local":
        assert cases == []  # a local root has no credentials; check() passes above
        return
    assert cases
    for broken, secret in cases:
        with pytest.raises(ArtifactStorageError) as checked:
            broken.check()
        writer = broken.writer("x.json")
        with pytest.raises(ArtifactStorageError) as committed:
            writer.write(b"payload")
            writer.commit()
        writer.abort()
        for raised in (checked, committed):
            message = str(raised.value)
            assert backend.name in message
            if secret:
                assert secret not in message
                assert secret not in repr(raised.value.args)
