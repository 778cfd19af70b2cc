"""`sklearn-text-classifier --port 9090`: serve the model (README.md)."""

from __future__ import annotations

import argparse
import os

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "9090")))
    parser.add_argument(
        "--model-dir",
        default=os.environ.get("MODEL_DIR", "models"),
        help="where each project's examples and fitted models are kept (default ./models)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", "1")),
        help="server processes; they share the models through --model-dir",
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "warning"))
    args = parser.parse_args()
    os.environ["MODEL_DIR"] = os.path.abspath(args.model_dir)
    uvicorn.run(
        "sklearn_text_classifier.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
