"""Storage-sync benchmark: first sync and re-sync of a moto S3 bucket, LabelOps beside Label
Studio (`python -m bench.storage`, see bench/README.md)."""
