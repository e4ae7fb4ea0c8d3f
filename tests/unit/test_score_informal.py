"""Scores as people type them (issue #13): chat spelling, diminutives, plus and minus,
school-grade words. Rounding rule: docs/listening.md, "Reading the score"."""
import pytest

from bot.listening import parse_score


@pytest.mark.parametrize("text, value", [
    ("ff een 7tje", 7), ("n 8je", 8), ("8+", 8), ("8-", 8), ("een 8+", 8), ("6-", 6),
    ("een krappe 6", 6), ("een ruime 7", 7), ("I'd say a solid eight", 8), ("10/10", 10),
    ("9 out of 10", 9), ("een 6je", 6), ("zeven min", 7), ("zeven plus", 7), ("7 min", 7),
    ("doe maar 8", 8), ("8 denk ik", 8), ("hmm 7ish", 7), ("eight-ish", 8), ("solid 7/10", 7),
    ("tja een 6 ofzo", 6), ("8 met een plus", 8), ("een achtje", 8), ("9/10 would recommend", 9),
    ("voldoende", 6), ("ruim voldoende", 7), ("een ruime voldoende", 7),
])
def test_informal_scores(text, value):
    assert parse_score(text).value == value, parse_score(text)


@pytest.mark.parametrize("text, candidates", [
    ("een dikke voldoende", (6, 7)), ("dikke voldoende", (6, 7)), ("7,5", (7, 8)), ("7.5", (7, 8)),
])
def test_between_two_scores_asks_which(text, candidates):
    result = parse_score(text)
    assert result.value is None and result.candidates == candidates, result


@pytest.mark.parametrize("text", [
    "de informatie was niet voldoende", "de uitleg was voldoende maar de bezorging te laat",
    "onvoldoende", "7 keer gebeld",
])
def test_grade_words_inside_a_story_are_no_score(text):
    result = parse_score(text)
    assert result.value is None and not result.candidates, result
