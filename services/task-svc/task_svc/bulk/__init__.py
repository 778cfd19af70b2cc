"""Tasks in bulk over gRPC: create from a stream, stream out, upsert predictions."""
