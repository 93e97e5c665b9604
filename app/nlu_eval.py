"""Intent quality: the trained model on a held-out set it never saw, and k-fold cross-validation."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from app import rasa_server
from assistant.errors import ConfigurationError
from assistant.settings import Settings


@dataclass(frozen=True)
class IntentReport:
    name: str
    accuracy: float
    macro_f1: float
    weighted_f1: float
    support: int
    per_intent: dict[str, float] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)
    report_dir: Path | None = None

    @classmethod
    def from_rasa(cls, name: str, report_file: Path) -> IntentReport:
        data = json.loads(report_file.read_text())
        intents = {k: v for k, v in data.items()
                   if isinstance(v, dict) and "f1-score" in v and k not in ("macro avg", "weighted avg", "micro avg")}
        per = {k: float(v["f1-score"]) for k, v in intents.items()}
        recall = {k: float(v["recall"]) for k, v in intents.items() if "recall" in v}
        return cls(
            name=name,
            accuracy=float(data.get("accuracy", data.get("micro avg", {}).get("f1-score", 0.0))),
            macro_f1=float(data["macro avg"]["f1-score"]),
            weighted_f1=float(data["weighted avg"]["f1-score"]),
            support=int(data["macro avg"]["support"]),
            per_intent=per,
            recall=recall,
            report_dir=report_file.parent,
        )

    def summary(self) -> str:
        worst = sorted(self.per_intent.items(), key=lambda kv: kv[1])[:5]
        return (f"{self.name}: accuracy {self.accuracy:.3f}, macro-F1 {self.macro_f1:.3f}, "
                f"weighted-F1 {self.weighted_f1:.3f} on {self.support} examples; lowest F1: "
                + ", ".join(f"{k} {v:.2f}" for k, v in worst)
                + "; lowest recall: " + ", ".join(
                    f"{k} {v:.2f}" for k, v in sorted(self.recall.items(), key=lambda kv: kv[1])[:3])
                + (f"\n  full report: {self.report_dir}" if self.report_dir else ""))


@dataclass(frozen=True)
class EvalResult:
    heldout: IntentReport
    cross_validation: IntentReport | None = None

    def summary(self) -> str:
        lines = [self.heldout.summary()]
        if self.cross_validation:
            lines.append(self.cross_validation.summary())
        return "\n".join(lines)


def _rasa_test(settings: Settings, args: list[str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(settings.rasa.python), "-m", "rasa", "test", "nlu", *args, "--out", str(out),
           "--no-plot"]  # intent_errors.json: the misread phrasings, for whoever adds examples
    result = subprocess.run(cmd, env=rasa_server.rasa_env(settings), cwd=out, capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigurationError(f"rasa test nlu failed:\n{(result.stdout + result.stderr)[-3000:]}")


def run_eval(settings: Settings, *, cross_validation: bool = False, folds: int = 3,
             out_dir: Path | None = None, heldout_file: Path | None = None) -> EvalResult:
    """The trained model on `heldout_file` (default data/eval/nlu_heldout.yml), optionally k-fold CV."""
    out = out_dir or settings.core.var_dir / "nlu-eval"
    model = rasa_server.ensure_model(settings)
    heldout_file = (heldout_file or settings.core.data_dir / "eval" / "nlu_heldout.yml").resolve()
    _rasa_test(settings, ["--nlu", str(heldout_file), "--model", str(model)], out / "heldout")
    heldout = IntentReport.from_rasa(str(heldout_file), out / "heldout" / "intent_report.json")
    cv = None
    if cross_validation:
        # k trainings: cached like the model, by the hash of the NLU data and pipeline.
        cv_dir = settings.core.cache_dir / "nlu-cv" / f"{rasa_server.nlu_key(settings)}-{folds}"
        report = cv_dir / "intent_report.json"
        if not report.exists():
            tmp = cv_dir.with_name(cv_dir.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            _rasa_test(settings, ["--nlu", str(settings.core.data_dir / "rasa"),
                                  "--config", str(settings.rasa.project_dir / "config.yml"),
                                  "--cross-validation", "--folds", str(folds)], tmp)
            shutil.rmtree(cv_dir, ignore_errors=True)
            tmp.rename(cv_dir)
        shutil.copytree(cv_dir, out / "cv", dirs_exist_ok=True)
        cv = IntentReport.from_rasa(f"{folds}-fold cross-validation", out / "cv" / "intent_report.json")
    return EvalResult(heldout=heldout, cross_validation=cv)
