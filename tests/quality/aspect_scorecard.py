"""Aspect scorecard: precision and recall of aspect detection on tests/quality/aspects_eval.yml.

    .venv/bin/python tests/quality/aspect_scorecard.py            # table (make quality)
    .venv/bin/python tests/quality/aspect_scorecard.py --misses   # also list every error
    .venv/bin/python tests/quality/aspect_scorecard.py --json out.json

Each sentence goes through the real analysis (bot.listening.analysis.analyze, with the
sentence's language as the conversation language). A sentence's predicted aspects are
compared, as a set, with the labelled set: every (sentence, aspect) pair is a true
positive, a false positive or a false negative. Micro precision/recall pool the pairs of
all aspects of one language. Targets (issue 17): micro P and R >= 0.90 per language.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EVAL_FILE = HERE / "aspects_eval.yml"
TARGET_PRECISION = 0.90
TARGET_RECALL = 0.90


@dataclass(frozen=True)
class Example:
    language: str
    company: str
    text: str
    aspects: frozenset[str]


def load_examples(path: Path = EVAL_FILE) -> list[Example]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for language, companies in data.items():
        for company, rows in companies.items():
            for labels, text in rows:
                aspects = frozenset() if labels == "none" else frozenset(labels.split("+"))
                out.append(Example(language, company, text, aspects))
    return out


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Scores:
    per_aspect: dict[str, dict[str, Counts]] = field(default_factory=dict)  # lang -> aspect
    micro: dict[str, Counts] = field(default_factory=dict)  # lang -> pooled
    misses: list[tuple[Example, frozenset[str]]] = field(default_factory=list)


def predict(example: Example) -> frozenset[str]:
    from bot.listening.analysis import analyze

    return frozenset(analyze(example.text, example.language).aspect_names)


def score(examples: list[Example]) -> Scores:
    from bot.listening.lexicon import aspect_names

    names = aspect_names()
    scores = Scores()
    for ex in examples:
        got = predict(ex)
        per = scores.per_aspect.setdefault(ex.language, {a: Counts() for a in names})
        micro = scores.micro.setdefault(ex.language, Counts())
        for aspect in got | ex.aspects:
            c = per.setdefault(aspect, Counts())
            if aspect in got and aspect in ex.aspects:
                c.tp += 1
                micro.tp += 1
            elif aspect in got:
                c.fp += 1
                micro.fp += 1
            else:
                c.fn += 1
                micro.fn += 1
        if got != ex.aspects:
            scores.misses.append((ex, got))
    return scores


def meets_targets(c: Counts) -> bool:
    return c.precision >= TARGET_PRECISION and c.recall >= TARGET_RECALL


def report(scores: Scores, misses: bool = False) -> str:
    lines = ["Aspect scorecard (tests/quality/aspects_eval.yml)", ""]
    for lang, per in scores.per_aspect.items():
        lines.append(f"[{lang}]  {'aspect':<22} {'P':>6} {'R':>6}   tp  fp  fn")
        for aspect, c in per.items():
            lines.append(f"      {aspect:<22} {c.precision:6.1%} {c.recall:6.1%}  {c.tp:3} {c.fp:3} {c.fn:3}")
        m = scores.micro[lang]
        verdict = "meets" if meets_targets(m) else "MISSES"
        lines.append(f"      {'MICRO':<22} {m.precision:6.1%} {m.recall:6.1%}  {m.tp:3} {m.fp:3} {m.fn:3}"
                     f"   {verdict} P>={TARGET_PRECISION:.0%} R>={TARGET_RECALL:.0%}")
        lines.append("")
    if misses:
        lines.append("Errors (labelled -> predicted):")
        for ex, got in scores.misses:
            want = "+".join(sorted(ex.aspects)) or "none"
            have = "+".join(sorted(got)) or "none"
            lines.append(f"  {ex.language} {ex.company:<20} {want:<35} -> {have:<35} {ex.text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every sentence scored wrong")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    scores = score(load_examples())
    print(report(scores, misses=args.misses))
    if args.json:
        args.json.write_text(json.dumps({
            lang: {"micro": {"precision": scores.micro[lang].precision, "recall": scores.micro[lang].recall},
                   "aspects": {a: {"precision": c.precision, "recall": c.recall} for a, c in per.items()}}
            for lang, per in scores.per_aspect.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
