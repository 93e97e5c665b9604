"""Run by tests/rasa/test_sentence_classifier.py with the Rasa environment's Python (not collected).

Trains SentenceIntentBlender on real MiniLM features (a few examples of three intents), saves and
loads it through Rasa's model storage, and reports (as JSON) what it does to a message whose DIET
ranking leans the wrong way: the probabilities it computes against scikit-learn's own, the blended
ranking, and a weight of 0 leaving DIET's ranking alone.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from aios_rasa.sentence_classifier import SentenceIntentBlender, blend, sentence_vector
from aios_rasa.sentence_featurizer import MiniLMFeaturizer

EXAMPLES = {
    "request_time_off": ["I want to take next week off", "book vacation for me", "can I get Friday off",
                         "request leave from May 3 to May 7", "I need some days off"],
    "request_access": ["I need access to GitHub", "give me a Figma licence", "add me to the Jira group",
                       "I want an account on Salesforce", "access to the finance drive please"],
    "ask_knowledge": ["how many vacation days do I get", "what is the hotel limit",
                      "how do I set up the VPN", "what are the core hours", "is parental leave paid"],
}
CONFIG = {**SentenceIntentBlender.get_default_config(), "C": 10.0}


def scikit_learn(data: TrainingData, vector: np.ndarray) -> np.ndarray:
    """What scikit-learn itself says of `vector`, trained as the component trains on the same features."""
    from sklearn.linear_model import LogisticRegression

    x = np.stack([sentence_vector(m) for m in data.intent_examples])
    y = [m.get(INTENT) for m in data.intent_examples]
    reference = LogisticRegression(C=CONFIG["C"], class_weight="balanced", max_iter=CONFIG["max_iter"]).fit(x, y)
    return reference.predict_proba(vector[None, :])[0]


def two_classes(storage, context, featurized) -> dict:
    """Two intents: scikit-learn keeps one row of weights; the probabilities must still be its own."""
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, ts in EXAMPLES.items() for t in ts
                         if i != "ask_knowledge"])
    featurized(data.training_examples)
    blender = SentenceIntentBlender.create(CONFIG, storage, Resource("two"), context)
    blender.train(data)
    [message] = featurized([Message(data={TEXT: "add me to the GitHub organisation"})])
    vector = sentence_vector(message)
    difference = np.max(np.abs(blender.probabilities(vector) - scikit_learn(data, vector)))
    return {"classes": blender.classes, "coef_rows": int(blender.coef.shape[0]), "difference": float(difference)}


def one_class(storage, context) -> str:
    """One intent (or no sentence features) cannot train a classifier: a clear error, not a model."""
    data = TrainingData([Message(data={TEXT: t, INTENT: "greet"}) for t in ("hi", "hello")])
    try:
        SentenceIntentBlender.create(SentenceIntentBlender.get_default_config(), storage, Resource("one"),
                                     context).train(data)
    except InvalidConfigException as error:  # reported to the test, which checks the message
        return f"{type(error).__name__}: {error}"
    return "trained"


def main(model_path: str) -> None:
    context = ExecutionContext(GraphSchema({}), "check")
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        tokenizer = WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage,
                                               Resource("tokenizer"), context)
        featurizer = MiniLMFeaturizer.create({**MiniLMFeaturizer.get_default_config(), "model_path": model_path},
                                             storage, Resource("featurizer"), context)

        def featurized(messages):
            tokenizer.process(messages)
            return featurizer.process(messages)

        data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, ts in EXAMPLES.items() for t in ts])
        featurizer.process_training_data(tokenizer.process_training_data(data))
        resource = Resource("blender")
        SentenceIntentBlender.create(CONFIG, storage, resource, context).train(data)
        loaded = SentenceIntentBlender.load(CONFIG, storage, resource, context)

        [message] = featurized([Message(data={TEXT: "could I get access to the Miro workspace"})])
        diet = [{"name": "ask_knowledge", "confidence": 0.55}, {"name": "request_access", "confidence": 0.40},
                {"name": "greet", "confidence": 0.05}]
        message.set(INTENT, dict(diet[0]))
        message.set(INTENT_RANKING_KEY, [dict(r) for r in diet])
        vector = sentence_vector(message)
        ours, theirs = loaded.probabilities(vector), scikit_learn(data, vector)
        loaded.process([message])

        [untouched] = featurized([Message(data={TEXT: "could I get access to the Miro workspace"})])
        untouched.set(INTENT, dict(diet[0]))
        untouched.set(INTENT_RANKING_KEY, [dict(r) for r in diet])
        SentenceIntentBlender.load({**CONFIG, "weight": 0.0}, storage, resource, context).process([untouched])

        print(json.dumps({
            "classes": loaded.classes,
            "max_probability_difference": float(np.max(np.abs(ours - theirs))),
            "intent": message.get(INTENT),
            "ranking": message.get(INTENT_RANKING_KEY),
            "untouched": untouched.get(INTENT_RANKING_KEY) == diet and untouched.get(INTENT) == diet[0],
            "two_classes": two_classes(storage, context, featurized),
            "one_class": one_class(storage, context),
            "everything": len(blend(diet, loaded.classes, ours, 0.5, 0)),
            "first_two": blend([{"name": "a", "confidence": 0.7}, {"name": "b", "confidence": 0.3}],
                               ["a", "b", "c"], np.array([0.1, 0.2, 0.7]), 0.5, 2),
        }))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.environ["AIOS_SENTENCE_MODEL"])
