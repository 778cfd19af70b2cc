"""storage_sync's audit entries (`labelops_common.audit`)."""
