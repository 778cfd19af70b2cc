"""A backend written only against `label-studio-ml`'s public API (`LabelStudioMLBase`), served
by the package's own server (`label-studio-ml init` + `label-studio-ml start`), unmodified.

It learns which words go with which choice from each annotation event it is sent, and
predicts the choice whose words a text shares most, with that share as the score. The
package's job manager keeps what `fit` returns (under the model dir) and hands it back as
`train_output` to the next model it builds.
"""

import re
from collections import Counter

from label_studio_ml.model import LabelStudioMLBase

WORD = re.compile(r"[a-z']+")


def words(text):
    return WORD.findall(str(text).lower())


class WordVoteClassifier(LabelStudioMLBase):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The first <Choices> of the config and the <Text> it labels.
        self.from_name, info = next(
            (name, info)
            for name, info in self.parsed_label_config.items()
            if info["type"] == "Choices"
        )
        self.to_name = info["to_name"][0]
        self.value = info["inputs"][0]["value"]
        self.labels = info["labels"]
        output = self.train_output or {}
        self.word_counts = {
            label: Counter(counts) for label, counts in output.get("word_counts", {}).items()
        }

    def predict(self, tasks, **kwargs):
        predictions = []
        for task in tasks:
            text_words = words(task["data"].get(self.value, ""))
            votes = Counter()
            for label, counts in self.word_counts.items():
                votes[label] = sum(counts[word] for word in text_words)
            total = sum(votes.values())
            if not total:
                predictions.append({"result": [], "score": 0.0})
                continue
            label, count = votes.most_common(1)[0]
            score = round(count / total, 4)
            predictions.append(
                {
                    "result": [
                        {
                            "from_name": self.from_name,
                            "to_name": self.to_name,
                            "type": "choices",
                            "value": {"choices": [label]},
                            "score": score,
                        }
                    ],
                    "score": score,
                }
            )
        return predictions

    def fit(self, tasks, workdir=None, **kwargs):
        data = kwargs.get("data") or {}
        counts = {label: Counter(c) for label, c in self.word_counts.items()}
        annotation = data.get("annotation") or {}
        task = data.get("task") or {}
        if annotation and not annotation.get("was_cancelled"):
            for region in annotation.get("result", []):
                if region.get("from_name") != self.from_name:
                    continue
                for label in region.get("value", {}).get("choices", []):
                    counts.setdefault(label, Counter()).update(
                        words(task.get("data", {}).get(self.value, ""))
                    )
        return {"word_counts": {label: dict(c) for label, c in counts.items()}}
