"""ml_gateway's audit entries (`labelops_common.audit`)."""
