"""Code that runs inside the Rasa server's own environment (Rasa 3.6, not the main one).

Only Rasa's documented extension points live here; `app.rasa_server` puts this folder on
the Rasa processes' PYTHONPATH. Nothing here may import the project's main packages.
"""

import hashlib
from pathlib import Path

# The add-on modules the NLU pipeline's components run: a change to any of them must retrain the
# model (app.rasa_server.nlu_key) and miss Rasa's training cache (the components' fingerprint_addon;
# Rasa itself fingerprints only the component class's own source).
PIPELINE_MODULES = ("minilm.py", "sentence_featurizer.py", "sentence_classifier.py")


def pipeline_fingerprint(*modules: str) -> str:
    """A hash of the given add-on modules' source (all of the pipeline's when none are named)."""
    h = hashlib.sha256()
    for name in modules or PIPELINE_MODULES:
        h.update(name.encode())
        h.update((Path(__file__).parent / name).read_bytes())
    return h.hexdigest()[:20]
