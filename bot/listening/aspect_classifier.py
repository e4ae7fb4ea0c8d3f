"""A second opinion on aspects: a small text classifier, asked only when the lexicon
finds no aspect in a message (see ``AspectIndex.find``).

One model per language, trained on bot/listening/aspect_training.yml (never on the
evaluation set), plus every lexicon term as a one-line example of its aspect: TF-IDF over
character n-grams (3-5, inside word boundaries, so Dutch compounds and misspellings share
features) and word uni/bigrams, into a one-vs-rest logistic regression (liblinear).
Deterministic: fixed ``random_state``, a deterministic solver, no time-dependent input.

Trained when the lexicon is loaded (``lexicon.resources()``, i.e. at ``warm_up()`` when the
action server starts; 1-2 s), kept in memory for the life of the process and trained again
after ``lexicon.reload()``. There is no model file to go stale. Scoring one message does
not go through sklearn's per-call validation: the fitted analyzers, idf weights and
coefficients are applied directly (a fraction of a millisecond).

It says which words decided: ``explain()`` returns the top weighted features for the
predicted aspect, and the aspect mention it adds is the token that weighed most.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from .nlp import TermHit, fold

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
DEFAULT_TRAINING = HERE / "aspect_training.yml"
NONE = "none"
# Below this probability the classifier abstains: a wrong aspect on the dashboard costs
# more than a missing one. Chosen by cross-validation on the training set only.
MIN_PROBABILITY = float(os.environ.get("GEHOOR_ASPECT_CLASSIFIER_MIN_P", "0.5"))
RANDOM_STATE = 0


def training_path() -> Path:
    return Path(os.environ.get("GEHOOR_ASPECT_TRAINING") or DEFAULT_TRAINING)


def load_training(path: Path | None = None) -> dict[str, list[tuple[str, str]]]:
    """{language: [(text, aspect or "none"), ...]} from the training YAML."""
    path = path or training_path()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, list[tuple[str, str]]] = {}
    for lang, aspects in data.items():
        for aspect, texts in (aspects or {}).items():
            for text in texts or ():
                out.setdefault(lang, []).append((str(text), str(aspect)))
    return out


def _normalise(text: str) -> str:
    return " ".join(fold(text).split())


def build_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion([
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                 token_pattern=r"(?u)\b\w\w+\b")),
    ])
    return Pipeline([("features", features),
                     ("model", LogisticRegression(C=10.0, solver="liblinear", random_state=RANDOM_STATE))])


def lexicon_examples(aspects: dict, language: str) -> list[tuple[str, str]]:
    """Every term of the lexicon as a one-line example of its aspect ("*bezorger" -> "bezorger")."""
    out = []
    for name, spec in (aspects or {}).items():
        for key in (language, f"{language}_match"):
            for term in (spec or {}).get(key) or ():
                term = str(term).strip("*").strip()
                if len(term) >= 3:
                    out.append((term, name))
    return out


class _FastScorer:
    """predict_proba of the fitted pipeline for one text, without sklearn's per-call
    overhead (which alone costs milliseconds): same analyzers, idf, norms, coefficients."""

    def __init__(self, model):
        import numpy as np

        self.np = np
        self.parts = []
        offset = 0
        for _, vec in model.named_steps["features"].transformer_list:
            self.parts.append((vec.build_analyzer(), vec.vocabulary_, vec.idf_, offset))
            offset += len(vec.vocabulary_)
        clf = model.named_steps["model"]
        self.coef = clf.coef_  # (classes, features)
        self.intercept = clf.intercept_
        self.classes = [str(c) for c in clf.classes_]
        self.names = [""] * offset
        for _analyzer, vocab, _, off in self.parts:
            for term, j in vocab.items():
                self.names[off + j] = term

    def features(self, text: str) -> dict[int, float]:
        import math

        x: dict[int, float] = {}
        for analyzer, vocab, idf, off in self.parts:
            counts: dict[int, int] = {}
            for gram in analyzer(text):
                j = vocab.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            weights = {j: (1.0 + math.log(c)) * idf[j] for j, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for j, w in weights.items():
                x[off + j] = w / norm
        return x

    def scores(self, x: dict[int, float]):
        np = self.np
        if not x:
            return self.intercept.copy()
        idx = np.fromiter(x.keys(), dtype=np.int64, count=len(x))
        val = np.fromiter(x.values(), dtype=np.float64, count=len(x))
        return self.coef[:, idx] @ val + self.intercept

    def predict_proba(self, x: dict[int, float]):
        np = self.np
        p = 1.0 / (1.0 + np.exp(-self.scores(x)))  # one-vs-rest, normalised like sklearn
        return p / p.sum()


@dataclass(frozen=True)
class Prediction:
    aspect: str  # an aspect name or "none"
    probability: float
    deciding: tuple[tuple[str, float], ...]  # (feature, weight) that pushed towards `aspect`

    @property
    def deciding_words(self) -> list[str]:
        return [f for f, _ in self.deciding]


class AspectClassifier:
    def __init__(self, examples: dict[str, list[tuple[str, str]]], known_aspects: tuple[str, ...] = (),
                 lexicon_aspects: dict | None = None):
        self.scorers: dict[str, _FastScorer] = {}
        for lang, rows in sorted(examples.items()):
            # a company lexicon with other aspects: learn only the aspects it has
            rows = [(t, a) for t, a in rows if a == NONE or not known_aspects or a in known_aspects]
            rows += lexicon_examples(lexicon_aspects or {}, lang)
            if len({a for _, a in rows}) < 2:
                continue  # nothing to tell apart: no second opinion in this language
            model = build_model()
            model.fit([_normalise(t) for t, _ in rows], [a for _, a in rows])
            self.scorers[lang] = _FastScorer(model)

    def explain(self, text: str, language: str, top: int = 5) -> Prediction:
        """The predicted aspect (or "none"), its probability, and the features that weighed
        most for it (feature value x coefficient)."""
        scorer = self.scorers.get(language) or next(iter(self.scorers.values()), None)
        if scorer is None:
            return Prediction(NONE, 1.0, ())
        x = scorer.features(_normalise(text))
        probs = scorer.predict_proba(x)
        best = int(probs.argmax())
        coef = scorer.coef[best]
        pairs = sorted(((scorer.names[j], float(v * coef[j])) for j, v in x.items() if v * coef[j] > 0),
                       key=lambda p: (-p[1], p[0]))[:top]
        return Prediction(scorer.classes[best], float(probs[best]),
                          tuple((n, round(w, 4)) for n, w in pairs))

    def hits(self, doc, language: str) -> list[TermHit]:
        """The aspect of a message the lexicon found nothing in, as one hit on the token
        that weighed most; [] when the classifier says "none" or is not sure."""
        pred = self.explain(doc.text, language, top=20)
        if pred.aspect == NONE or pred.probability < MIN_PROBABILITY or not pred.deciding:
            return []
        scores = [0.0] * len(doc)
        for feature, weight in pred.deciding:
            for tok in doc:
                low = tok.lower_
                if feature.strip() and (feature.strip() in low or low in feature.split()):
                    scores[tok.i] += weight
        best = max(range(len(doc)), key=lambda i: (scores[i], -i)) if len(doc) else 0
        log.debug("aspect classifier: %s p=%.2f decided by %s", pred.aspect, pred.probability,
                  pred.deciding_words[:5])
        return [TermHit(pred.aspect, best, best + 1)] if len(doc) else []


class LazySecondOpinion:
    """Callable for ``AspectIndex``: trains the classifier on first use, thread-safely."""

    def __init__(self, known_aspects: tuple[str, ...] = (), lexicon_aspects: dict | None = None):
        self.known_aspects = known_aspects
        self.lexicon_aspects = lexicon_aspects or {}
        self._classifier: AspectClassifier | None = None
        self._lock = threading.Lock()

    @property
    def classifier(self) -> AspectClassifier:
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    self._classifier = AspectClassifier(load_training(), self.known_aspects, self.lexicon_aspects)
        return self._classifier

    def __call__(self, doc, language: str) -> list[TermHit]:
        return self.classifier.hits(doc, language)
