"""parse_score: digits and words, Dutch and English, ambiguity, refusal, range."""
import pytest
from hypothesis import given, settings, strategies as st

from bot.listening import ScoreResult, parse_score


@pytest.mark.parametrize("text, value", [
    ("8", 8), ("8/10", 8), ("7 uit 10", 7), ("een dikke zeven", 7), ("tien!", 10),
    ("I'd give it a six", 6), ("a solid 8", 8), ("nul", 0), ("zero", 0), ("10/10", 10),
    ("een 9", 9), ("ik geef jullie een 3", 3), ("Een zesje", 6), ("7 out of 10", 7),
    ("drie van de tien", 3), ("score: 9", 9), ("7+", 7), ("TIEN", 10), ("één", 1),
    ("0", 0), ("  5  ", 5), ("I would say seven", 7), ("ik heb 3 keer gebeld, ik geef een 4", 4),
    ("we waited 2 weeks, so a 5", 5), ("negen", 9), ("eight", 8),
])
def test_reads_scores(text, value):
    result = parse_score(text)
    assert result.value == value, result
    assert result.ok and not result.refused and not result.out_of_range


@pytest.mark.parametrize("text, value, exact", [
    ("6,4", 6, 6.4), ("7.8", 8, 7.8), ("acht komma twee", 8, 8.2), ("eight point nine", 9, 8.9),
])
def test_decimals_round_to_the_nearest_whole(text, value, exact):
    result = parse_score(text)
    assert result.value == value
    assert result.exact == pytest.approx(exact)


@pytest.mark.parametrize("text, candidates", [
    ("8,5", (8, 9)), ("7.5", (7, 8)), ("7,5", (7, 8)), ("acht komma vijf", (8, 9)),
    ("eight point five", (8, 9)), ("zeven en een half", (7, 8)), ("7½", (7, 8)),
    ("ik geef een 8,5", (8, 9)), ("a 6.5", (6, 7)),
])
def test_a_half_asks_which_of_the_two_like_zes_of_zeven(text, candidates):
    result = parse_score(text)
    assert result.value is None and result.candidates == candidates, result


@pytest.mark.parametrize("text, candidates", [
    ("zes of zeven", (6, 7)), ("6 or 7", (6, 7)), ("6-7", (6, 7)), ("6/7", (6, 7)),
    ("seven or eight", (7, 8)), ("tussen de 6 en 7", (6, 7)),
])
def test_ambiguous_scores_give_candidates(text, candidates):
    result = parse_score(text)
    assert result.value is None
    assert result.candidates == candidates
    assert result.ambiguous


@pytest.mark.parametrize("text", ["zeg ik liever niet", "no comment", "liever niet",
                                  "I'd rather not say", "sla maar over", "skip"])
def test_refusal(text):
    result = parse_score(text)
    assert result.refused and result.value is None and not result.dont_know


@pytest.mark.parametrize("text", ["geen idee", "weet ik niet", "I don't know", "no idea"])
def test_dont_know_is_not_refusal(text):
    result = parse_score(text)
    assert result.dont_know and not result.refused and result.value is None


@pytest.mark.parametrize("text", ["11", "-3", "100", "12/10", "twaalf"])
def test_out_of_range(text):
    result = parse_score(text)
    assert result.out_of_range and result.value is None


@pytest.mark.parametrize("text", ['/give_score{"score": 99}', '/give_score{"score": 8}',
                                  "{8}", "hallo", "", "   ", "no one helped me",
                                  "het was een ramp", "2 weken gewacht", "€ 40 te veel betaald"])
def test_no_score(text):
    result = parse_score(text)
    assert result.value is None and not result.candidates and not result.out_of_range


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_never_crashes_and_stays_in_range(text):
    result = parse_score(text)
    assert isinstance(result, ScoreResult)
    assert result.value is None or 0 <= result.value <= 10
    assert all(0 <= c <= 10 for c in result.candidates)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10))
def test_every_digit_score(n):
    assert parse_score(str(n)).value == n
    assert parse_score(f"{n}/10").value == n
