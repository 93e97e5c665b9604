"""A second opinion on the intent: a linear classifier over the MiniLM sentence vector, blended with DIET's.

DIET learns from a few thousand examples and leans on the words it saw; a logistic regression over
the pre-trained sentence vector leans on meaning and generalises differently. Their average is
better than either on phrasings neither saw (data/eval/independent/: see the README's "Understanding
messages"). Placed after DIETClassifier and before FallbackClassifier, it rewrites `intent` and
`intent_ranking` with the blend, so the fallback's threshold and ambiguity margin judge the blend.

Config: `C` (the regression's inverse regularisation), `weight` (the share of the regression in
the blend; 0 leaves DIET's ranking as it is), `ranking_length` (0: every intent). Chosen on the tuning sets
(data/eval/nlu_heldout.yml, independent/nlu_tune.yml, nlu_tune2.yml), never on the report sets.

The weights are stored as plain arrays (no pickle), and the probabilities are computed here with
NumPy, as scikit-learn's multinomial regression computes them.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from aios_rasa import pipeline_fingerprint
from aios_rasa.sentence_featurizer import MiniLMFeaturizer

WEIGHTS_FILE = "weights.npz"
CLASSES_FILE = "classes.json"


def sentence_vector(message: Message) -> Optional[np.ndarray]:
    """The message's dense sentence features (the MiniLM vector), or None when it has none."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    return np.asarray(sentence.features, dtype=np.float64).reshape(-1)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


def blend(diet: List[Dict[Text, Any]], classes: List[Text], probabilities: np.ndarray, weight: float,
          length: int) -> List[Dict[Text, Any]]:
    """`weight` of the regression's probabilities plus the rest of DIET's confidences (0 for an intent
    outside DIET's ranking), best first, the first `length` (0: all, as Rasa's ranking_length)."""
    combined = {str(r[INTENT_NAME_KEY]): (1.0 - weight) * float(r["confidence"]) for r in diet}
    for name, p in zip(classes, probabilities, strict=True):
        combined[name] = combined.get(name, 0.0) + weight * float(p)
    ranking = sorted(combined.items(), key=lambda item: -item[1])[:length or None]
    return [{INTENT_NAME_KEY: name, "confidence": confidence} for name, confidence in ranking]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceIntentBlender(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [MiniLMFeaturizer]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return pipeline_fingerprint("sentence_classifier.py")

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 100.0, "weight": 0.6, "ranking_length": 10, "max_iter": 3000}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not 0.0 <= float(config["weight"]) <= 1.0:
            raise InvalidConfigException("SentenceIntentBlender: weight must be between 0 and 1")
        if float(config["C"]) <= 0:
            raise InvalidConfigException("SentenceIntentBlender: C must be positive")
        if int(config["ranking_length"]) < 0:
            raise InvalidConfigException("SentenceIntentBlender: ranking_length must be 0 (all) or more")

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 classes: Optional[List[Text]] = None, coef: Optional[np.ndarray] = None,
                 intercept: Optional[np.ndarray] = None) -> None:
        self.validate_config(config)
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self.classes = classes or []
        self.coef = coef
        self.intercept = intercept

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceIntentBlender":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        rows = [(sentence_vector(m), m.get(INTENT)) for m in training_data.intent_examples]
        rows = [(x, y) for x, y in rows if x is not None and y]
        if len({y for _, y in rows}) < 2:
            raise InvalidConfigException("SentenceIntentBlender needs examples of two intents or more, with "
                                         "MiniLMFeaturizer's sentence features")
        x = np.stack([x for x, _ in rows])
        y = [y for _, y in rows]
        regression = LogisticRegression(C=float(self.component_config["C"]), class_weight="balanced",
                                        max_iter=int(self.component_config["max_iter"]))
        regression.fit(x, y)
        self.classes = [str(c) for c in regression.classes_]
        self.coef, self.intercept = regression.coef_, regression.intercept_
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, coef=self.coef, intercept=self.intercept)
            (directory / CLASSES_FILE).write_text(json.dumps(self.classes), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "SentenceIntentBlender":
        with model_storage.read_from(resource) as directory:
            with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
                coef, intercept = weights["coef"], weights["intercept"]
            classes = json.loads((directory / CLASSES_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, classes, coef, intercept)

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        """The regression's probability of each of `classes` (multinomial: a softmax of the scores)."""
        assert self.coef is not None and self.intercept is not None
        scores = self.coef @ vector + self.intercept
        if len(self.classes) == 2:  # scikit-learn keeps one row of weights for two classes
            return softmax(np.array([0.0, float(scores[0])]))
        return softmax(scores)

    def process(self, messages: List[Message]) -> List[Message]:
        weight = float(self.component_config["weight"])
        for message in messages:
            vector = sentence_vector(message)
            diet = message.get(INTENT_RANKING_KEY)
            if vector is None or not diet or self.coef is None or weight == 0.0:
                continue
            ranking = blend(diet, self.classes, self.probabilities(vector), weight,
                            int(self.component_config["ranking_length"]))
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
