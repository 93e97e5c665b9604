"""What retrains what: the model key follows every training file, the NLU key only NLU inputs."""

from __future__ import annotations

import shutil

from app import rasa_server
from app.local_stack import make_settings
from assistant.settings import PROJECT_DIR, RasaSettings


def copy_project(tmp_path):
    data, rasa = tmp_path / "data", tmp_path / "rasa"
    shutil.copytree(PROJECT_DIR / "data" / "rasa", data / "rasa")
    shutil.copytree(PROJECT_DIR / "app" / "rasa", rasa, ignore=shutil.ignore_patterns("addons"))
    settings = make_settings(tmp_path / "var", data_dir=data)
    return settings.model_copy(update={"rasa": RasaSettings(project_dir=rasa)}), data, rasa


def test_rules_and_policies_change_the_model_but_not_the_nlu_key(tmp_path):
    settings, data, rasa = copy_project(tmp_path)
    model, nlu = rasa_server.model_key(settings), rasa_server.nlu_key(settings)

    rules = data / "rasa" / "rules.yml"
    rules.write_text(rules.read_text() + "\n# a comment is a change\n")
    config = rasa / "config.yml"
    config.write_text(config.read_text().replace("core_fallback_threshold: 0.3", "core_fallback_threshold: 0.35"))
    assert rasa_server.model_key(settings) != model
    assert rasa_server.nlu_key(settings) == nlu

    examples = data / "rasa" / "nlu.yml"
    examples.write_text(examples.read_text().replace("      - hello\n", "      - hello there friend\n", 1))
    assert rasa_server.nlu_key(settings) != nlu


def test_the_pipelines_own_code_changes_both_keys(tmp_path, monkeypatch):
    """Rasa fingerprints a component by its class's source only; the helpers it calls (the NumPy
    MiniLM, the blend) are in the keys (the components add them to Rasa's fingerprint through
    fingerprint_addon, with the same aios_rasa.pipeline_fingerprint)."""
    settings, _, _ = copy_project(tmp_path)
    addons = tmp_path / "addons"
    shutil.copytree(rasa_server.ADDONS_DIR, addons, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(rasa_server, "ADDONS_DIR", addons)
    model, nlu = rasa_server.model_key(settings), rasa_server.nlu_key(settings)

    store = addons / "aios_rasa" / "tracker_store.py"  # not the pipeline's: no retraining
    store.write_text(store.read_text() + "\n# a comment\n")
    assert (rasa_server.model_key(settings), rasa_server.nlu_key(settings)) == (model, nlu)

    blend = addons / "aios_rasa" / "sentence_classifier.py"
    blend.write_text(blend.read_text().replace("weight * float(p)", "weight * float(p) * 1.0"))
    assert rasa_server.model_key(settings) != model and rasa_server.nlu_key(settings) != nlu
