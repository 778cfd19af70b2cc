"""A reference ML backend for LabelOps and Label Studio: a TF-IDF + logistic-regression text
classifier that trains on a project's annotations and pre-labels its tasks, speaking the
ML-backend protocol (`/health`, `/setup`, `/predict`, `/webhook`, `/train`, `/versions`)."""
