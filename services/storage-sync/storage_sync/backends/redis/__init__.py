"""Redis (as Label Studio lists it): every key under `path` (a key prefix) of database `db`
is an object, its string value the object's bytes. Redis cannot sign URLs and has no key
order, so a sync scans every matching key (SCAN, a page at a time) and skips those already
imported. The host passes the outbound address policy and the connection goes to the
address that was checked."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import redis
from labelops_common.artifacts.base import ListedObject
from labelops_common.outbound import OutboundRefused

from storage_sync.backends.base import (
    ConnectContext,
    FieldSpec,
    StorageBackend,
    StorageConnectionError,
    StorageType,
)

SCAN_COUNT = 1000


class RedisBackend(StorageBackend):
    resumable_listing = False

    def __init__(self, client: redis.Redis, *, host: str, port: int, db: int) -> None:
        self.client = client
        self.host, self.port, self.db = host, port, db

    def _failure(self, operation: str, error: Exception) -> StorageConnectionError:
        return StorageConnectionError(
            f"redis {self.host}:{self.port}/{self.db}: {operation} failed ({type(error).__name__})",
            field="host",
        )

    def list_pages(
        self,
        prefix: str,
        *,
        start_after: str = "",
        recursive: bool = True,
        page_size: int = SCAN_COUNT,
    ) -> Iterator[list[ListedObject]]:
        cursor = 0
        pattern = _glob_escape(prefix) + "*"
        while True:
            try:
                cursor, names = self.client.scan(cursor=cursor, match=pattern, count=page_size)
            except redis.RedisError as error:
                raise self._failure("list", error) from None
            keys = sorted(_text(name) for name in names)
            page = [
                ListedObject(key=key, size=0)
                for key in keys
                if (recursive or "/" not in key[len(prefix) :]) and key > start_after
            ]
            if page:
                yield page
            if cursor == 0:
                return

    def read(self, key: str) -> bytes:
        try:
            value = self.client.get(key)
        except redis.RedisError as error:
            raise self._failure("read", error) from None
        if value is None:
            raise FileNotFoundError(key)
        return value.encode() if isinstance(value, str) else bytes(value)

    def write(self, key: str, data: bytes) -> None:
        try:
            self.client.set(key, data)
        except redis.RedisError as error:
            raise self._failure("write", error) from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete(key)
        except redis.RedisError as error:
            raise self._failure("delete", error) from None

    def presign(self, key: str, *, ttl_seconds: int) -> str | None:
        return None

    def validate(self) -> None:
        try:
            self.client.ping()
        except redis.AuthenticationError:
            raise StorageConnectionError("Redis refused the password.", field="password") from None
        except redis.RedisError as error:
            raise self._failure("ping", error) from None

    def uri(self, key: str) -> str:
        return f"redis://{self.host}:{self.port}/{self.db}/{key}"

    def key_of(self, uri: str) -> str | None:
        head = f"redis://{self.host}:{self.port}/{self.db}/"
        return uri[len(head) :] if uri.startswith(head) else None


def _text(name: bytes | str) -> str:
    return name if isinstance(name, str) else name.decode("utf-8", "replace")


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class RedisStorageType(StorageType):
    name = "redis"
    title = "Redis"
    fields = (
        FieldSpec("path", default=""),
        FieldSpec("host", required=True),
        FieldSpec("port", kind=int, default=6379),
        FieldSpec("db", kind=int, default=1),
        FieldSpec("password", secret=True),
    )

    @classmethod
    def bucket_of(cls, settings: Mapping[str, Any]) -> str:
        return f"{settings.get('host')}:{settings.get('port')}/{settings.get('db')}"

    @classmethod
    def prefix_of(cls, settings: Mapping[str, Any]) -> str:
        return str(settings.get("path") or "").strip("/")

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> dict[str, list[str]]:
        errors = super().check_settings(settings)
        port, db = settings.get("port", 6379), settings.get("db", 1)
        if not isinstance(port, int) or not 0 < port < 65536:
            errors["port"] = ["Must be a port number (1-65535)."]
        if not isinstance(db, int) or not 0 <= db < 1 << 16:
            errors["db"] = ["Must be a database number."]
        return errors

    @classmethod
    def connect(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str], context: ConnectContext
    ) -> StorageBackend:
        host = str(settings.get("host") or "")
        port = int(settings.get("port") or 6379)
        db_setting = settings.get("db")
        db = int(db_setting) if db_setting is not None else 1
        policy = dataclasses.replace(context.policy, schemes=frozenset({"redis"}))
        try:
            address = policy.vetted_addresses(host, port, url=f"redis://{host}:{port}")[0]
        except OutboundRefused as refused:
            raise StorageConnectionError(refused.reason, field="host") from None
        client = redis.Redis(
            host=address,
            port=port,
            db=db,
            password=secrets.get("password") or None,
            socket_timeout=10,
            socket_connect_timeout=5,
        )
        return RedisBackend(client, host=host, port=port, db=db)
