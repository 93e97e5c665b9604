"""Dense pre-trained features for DIET: the packaged MiniLM's vectors, offline, in the Rasa environment.

DIET learning from a few hundred examples with sparse features only knows the words it saw; the
sentence encoder knows that "my Miro account" and "access to Miro" are close. Each message gets a
sentence vector (what sentence-transformers computes) and a vector per token (the encoder's last
layer, averaged over the token's word pieces), next to the sparse features.

Config: `model_path`, the sentence-transformers folder of all-MiniLM-L6-v2 (config.yml takes it
from `AIOS_SENTENCE_MODEL`, which `app.rasa_server.rasa_env` sets to the knowledge
service's embedding model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from aios_rasa import pipeline_fingerprint
from aios_rasa.minilm import MiniLM

_LOADED: Dict[str, MiniLM] = {}  # one copy per process, however often Rasa builds the component


def _model(path: str) -> MiniLM:
    if path not in _LOADED:
        if not (Path(path) / "model.safetensors").is_file():
            raise InvalidConfigException(f"MiniLMFeaturizer: no model.safetensors in {path!r} (AIOS_SENTENCE_MODEL)")
        _LOADED[path] = MiniLM(Path(path))
    return _LOADED[path]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return pipeline_fingerprint("minilm.py", "sentence_featurizer.py")

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_path": None}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not config.get("model_path"):
            raise InvalidConfigException("MiniLMFeaturizer needs model_path (AIOS_SENTENCE_MODEL)")

    def __init__(self, config: Dict[Text, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self.model = _model(str(config["model_path"]))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "MiniLMFeaturizer":
        return cls(config, execution_context)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._featurize(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._featurize(message)
        return messages

    def _featurize(self, message: Message) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT]) if message.get(TEXT) else None
        if not tokens:
            return
        per_token, sentence = self.model.encode_tokens([t.text for t in tokens])
        self.add_features_to_message(sequence=per_token, sentence=sentence[None, :], attribute=TEXT, message=message)
