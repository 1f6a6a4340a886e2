"""The classifier: a scikit-learn estimator, the plain scoring state it exports, model files
with their cards, thresholds, evaluation and training. Imports ``labels`` and ``io`` below it;
``state`` and ``artifact`` (what tagging loads) import neither pandas nor scikit-learn."""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "LoadedModel": "artifact", "load_model": "artifact", "read_card": "artifact",
    "save_model": "artifact",
    "EfficiencyClassifier": "estimator",
    "KeywordRules": "evaluation", "Scores": "evaluation", "cross_validate": "evaluation",
    "format_table": "evaluation", "holdout": "evaluation", "plain_pipeline": "evaluation",
    "ScoringState": "state",
    "best_thresholds": "thresholds",
    "TrainResult": "training", "evaluate_all": "training", "holdout_all": "training",
    "suspects": "training", "train": "training",
})
