"""A one-word verdict is acknowledged by naming its feeling, never by repeating the
customer's judgement in the bot's voice (usertest finding 2, docs/listening.md)."""
import pytest

from bot.listening.acknowledgement import acknowledge_analysis
from bot.listening.analysis import analyze
from bot.listening.nlp import fold

# verdicts the bot never says itself (reflection.yml insults); a plain "slecht" is quoted as theirs
VERDICTS = [("belachelijk", "nl"), ("schandalig", "nl"), ("waardeloos", "nl"), ("echt belachelijk", "nl"),
            ("ridiculous", "en"), ("useless", "en")]
ANSWERED = [None, "impact", "expectation", "priority"]


def _ack(text, lang, answered, turn=0, band="detractor"):
    return acknowledge_analysis(analyze(text, lang), lang, turn, answered=answered, band=band)


@pytest.mark.parametrize("text,lang", VERDICTS)
@pytest.mark.parametrize("answered", ANSWERED)
def test_verdict_not_repeated_in_bots_voice(text, lang, answered):
    for turn in range(3):
        said = _ack(text, lang, answered, turn)
        assert said, (text, answered)
        assert fold(text) not in fold(said), said
        assert "niet niks" not in said and "no small thing" not in said


@pytest.mark.parametrize("text,lang,hint", [("belachelijk", "nl", "tegen"), ("ridiculous", "en", "let you down")])
def test_verdict_names_the_feeling(text, lang, hint):
    said = " ".join(_ack(text, lang, None, turn) for turn in range(3))
    assert hint in said


def test_verdict_phrasing_varies():
    assert len({_ack("belachelijk", "nl", None, turn) for turn in range(4)}) >= 2
    assert len({_ack("ridiculous", "en", None, turn) for turn in range(4)}) >= 2


@pytest.mark.parametrize("text,lang", [("never change the drivers", "en"),
                                       ("Nooit die persoonlijke aanpak veranderen!", "nl")])
@pytest.mark.parametrize("turn", [0, 1])
def test_praise_answer_gets_praise_acknowledgement(text, lang, turn):
    said = _ack(text, lang, "impact", turn, band="promoter")
    assert "niet niks" not in said and "no small thing" not in said
    assert "zwaar" not in said and "weighs" not in said
