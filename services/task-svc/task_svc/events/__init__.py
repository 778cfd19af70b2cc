"""task-svc's domain events (Label Studio webhook actions), sent after commit."""
