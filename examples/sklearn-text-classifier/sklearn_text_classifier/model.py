"""The model: TF-IDF features (words and word pairs) and a logistic regression, whose class
probability is the prediction's score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline


class NotEnoughExamples(ValueError):
    """Fewer than two classes among the examples: nothing to tell apart yet."""


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float


def fit(texts: Sequence[str], labels: Sequence[str]) -> Pipeline:
    if len(set(labels)) < 2:
        raise NotEnoughExamples(
            f"{len(texts)} annotated examples with {len(set(labels))} distinct choice(s); "
            "training needs at least two"
        )
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("classifier", LogisticRegression(max_iter=1000, C=10.0)),
        ]
    )
    pipeline.fit(list(texts), list(labels))
    return pipeline


def predict(pipeline: Pipeline, texts: Sequence[str]) -> list[Prediction]:
    if not texts:
        return []
    probabilities = pipeline.predict_proba(list(texts))
    classes = pipeline.classes_
    best = probabilities.argmax(axis=1)
    return [
        Prediction(label=str(classes[index]), score=round(float(row[index]), 6))
        for row, index in zip(probabilities, best, strict=True)
    ]
