"""The listening-quality gate in `make test`: a quarter of the scorecard's corpora
(tests/quality/scorecard.py) through the real stack, every metric asserted per language.

A metric whose target is not met yet (the fixes of issue 13 are in progress) is listed in
NOT_YET_MET: it is reported as xfail with the measured figure instead of failing CI. The
listing is strict: once such a metric meets its target, its test FAILS with a reminder to
remove it from NOT_YET_MET, so it becomes a hard assertion from then on. Every metric not
listed is a hard assertion already. `make quality` prints the full scorecard.
"""
from __future__ import annotations

import pytest

from quality import scorecard as sc

pytestmark = pytest.mark.integration

# Every 4th item of each corpus: about 160 scripted customers, ~1 minute on a quiet machine.
GATE_SUBSET = 4

# Metric -> languages whose target is not met yet. The ONE place to edit when a fix lands.
NOT_YET_MET: dict[str, tuple[str, ...]] = {
    "question_not_answered": ("en",),
    "returning_customer_known": ("nl", "en"),  # not built yet (issue 13, item 6)
}

METRICS = list(sc.build_metrics())


@pytest.fixture(scope="module")
def scorecard(gehoor_stack):
    return sc.run(gehoor_stack, subset=GATE_SUBSET)


def _figure(metric: sc.Metric, language: str) -> str:
    unit = "%" if metric.kind == "rate" else " words"
    return f"{metric.value(language):.1f}{unit} of n={metric.n(language)} (target {metric.target})"


@pytest.mark.parametrize("language", sc.LANGUAGES)
@pytest.mark.parametrize("name", METRICS)
def test_quality_target(scorecard, name, language):
    metric = scorecard[name]
    if metric.value(language) is None:
        if language in NOT_YET_MET.get(name, ()):
            pytest.xfail(f"{name} {language}: nothing measured in the gate's subset")
        pytest.fail(f"{name} {language}: the gate's subset measured nothing; widen GATE_SUBSET or the corpus")
    figure = _figure(metric, language)
    if language in NOT_YET_MET.get(name, ()):
        if metric.met(language):
            pytest.fail(f"{name} {language} now meets its target: {figure}. Remove it from NOT_YET_MET in "
                        f"{__file__} so it is a hard assertion from now on.")
        pytest.xfail(f"not yet met: {name} {language} {figure}")
    examples = "\n".join(metric.failures[language][:5])
    assert metric.met(language), f"{name} {language}: {figure}\n{examples}"
