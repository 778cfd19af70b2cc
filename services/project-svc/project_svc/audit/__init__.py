"""project_svc's audit entries (`labelops_common.audit`)."""
