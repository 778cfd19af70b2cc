"""Azure Blob Storage: an account name with its key or a SAS token, or a connection string
(which may name its own endpoint, e.g. Azurite's); endpoints pass the outbound policy."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from labelops_common.artifacts import ArtifactStorageError
from labelops_common.artifacts.azure import (
    AzureArtifactStorage,
    account_service,
    connection_service,
)
from labelops_common.outbound import OutboundRefused

from storage_sync.backends.base import (
    ArtifactBackend,
    ConnectContext,
    FieldSpec,
    StorageBackend,
    StorageConnectionError,
    StorageType,
)

CONTAINER_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


class AzureBackend(ArtifactBackend):
    resumable_listing = False
    bucket_field: ClassVar[str] = "container"


class AzureStorageType(StorageType):
    name = "azure"
    title = "Microsoft Azure"
    scheme = "azure-blob"
    fields = (
        FieldSpec("container", required=True),
        FieldSpec("prefix", default=""),
        FieldSpec("account_name", default=None),
        FieldSpec("account_key", secret=True),
        FieldSpec("sas_token", secret=True),
        FieldSpec("connection_string", secret=True),
    )

    @classmethod
    def bucket_of(cls, settings: Mapping[str, Any]) -> str:
        return str(settings.get("container") or "")

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> dict[str, list[str]]:
        errors = super().check_settings(settings)
        container = settings.get("container")
        if container and not CONTAINER_NAME.match(str(container)):
            errors["container"] = ["Not a valid Azure container name."]
        return errors

    @classmethod
    def connect(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str], context: ConnectContext
    ) -> StorageBackend:
        container = str(settings["container"])
        connection_string = secrets.get("connection_string") or ""
        try:
            if connection_string:
                service = connection_service(connection_string)
            else:
                account = str(settings.get("account_name") or "")
                if not account:
                    raise StorageConnectionError(
                        "An account name (with its key or a SAS token) or a connection "
                        "string is required.",
                        field="account_name",
                    )
                if not (secrets.get("account_key") or secrets.get("sas_token")):
                    raise StorageConnectionError(
                        "The account key or a SAS token is required.", field="account_key"
                    )
                service = account_service(
                    account_name=account,
                    account_key=secrets.get("account_key") or None,
                    sas_token=secrets.get("sas_token") or None,
                )
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error), field="account_key") from None
        try:
            context.policy.check_url(service.url)
        except OutboundRefused as refused:
            raise StorageConnectionError(refused.reason, field="connection_string") from None
        artifacts = AzureArtifactStorage(service, bucket=container)
        return AzureBackend(artifacts, scheme="azure-blob", bucket=container)
