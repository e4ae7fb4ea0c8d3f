"""An answer is an answer: inside the feedback form, is a message the answer to what was
asked, or does it interrupt? (docs/listening.md, "An answer is an answer")

Only a message that is *clearly* a stop, a request for a person, a "why do you ask", a
question we cannot answer, or keyboard mash interrupts. "Clearly" is the classifier's
intent with high confidence AND a precise rule on the words; `nlu_fallback` alone never
interrupts. Abuse inside an answer is the answer (flagged, so the bot says one calm word).
The word lists live in signals.yml (fed_up, interjections, interruptions).
"""
from __future__ import annotations

from dataclasses import dataclass

from .analysis import MessageAnalysis
from .lexicon import resources
from .nlp import get_nlp, fold

ANSWER = "answer"
CLARIFY = "clarify"  # empty or keyboard mash: ask once more, in other words
STOP, REQUEST_HUMAN, WHY_ASK, OUT_OF_SCOPE = "stop", "request_human", "why_ask", "out_of_scope"
INTERRUPTIONS = (STOP, REQUEST_HUMAN, WHY_ASK, OUT_OF_SCOPE)

HIGH_CONFIDENCE = 0.8  # below this the classifier is guessing: the message is the answer
FAIR_CONFIDENCE = 0.6  # enough for a stop that says "stop" in so many words
SHORT = 8  # a stop or a why-question is said in a few words; a longer message tells a story
REQUEST_WORDS = 12  # "dit is hopeloos, ik wil een medewerker spreken" still asks for one


@dataclass(frozen=True)
class TurnReading:
    kind: str  # ANSWER, CLARIFY or one of INTERRUPTIONS
    abuse: bool = False  # an answer with swearing/insults: meet it calmly, once


def _first_word(analysis: MessageAnalysis) -> str:
    words = fold(analysis.text).replace("’", "'").split()
    return words[0].strip("¿¡,.!?:;\"'()") if words else ""


def _is_question(analysis: MessageAnalysis, openers: frozenset[str]) -> bool:
    return analysis.question or _first_word(analysis) in openers


def read_turn(text: str, intent: str | None, confidence: float | None,
              analysis: MessageAnalysis) -> TurnReading:
    """How to take one customer message while the form waits for an answer."""
    if not (text or "").strip() or analysis.gibberish:
        return TurnReading(CLARIFY)
    confident = (confidence or 0.0) >= HIGH_CONFIDENCE
    openers = frozenset().union(*(r.question_openers for r in resources().languages.values()))
    no_story = not analysis.aspects and analysis.details == 0
    says_stop = (confidence or 0.0) >= FAIR_CONFIDENCE and _words(analysis) & frozenset().union(
        *(r.stop_words for r in resources().languages.values()))
    if (confident or says_stop) and intent == STOP and analysis.word_count <= SHORT \
            and (_about_this_chat(analysis) or (no_story and not analysis.fed_up)):
        return TurnReading(STOP)
    if confident and intent == REQUEST_HUMAN and analysis.word_count <= REQUEST_WORDS \
            and _names_a_person(text, analysis.language):
        return TurnReading(REQUEST_HUMAN)
    if confident and intent == WHY_ASK and analysis.word_count <= SHORT and _is_question(analysis, openers):
        return TurnReading(WHY_ASK)
    if confident and intent == OUT_OF_SCOPE and _is_question(analysis, openers) \
            and not _is_complaint(analysis):
        return TurnReading(OUT_OF_SCOPE)
    return TurnReading(ANSWER, abuse=analysis.abuse)


def _words(analysis: MessageAnalysis) -> set[str]:
    return {w.strip(",.!?:;\"'()") for w in fold(analysis.text).replace("’", "'").split()}


def _is_complaint(analysis: MessageAnalysis) -> bool:
    """"Waarom staat er nergens een telefoonnummer?", "how hard is it to deliver on time?":
    a complaint asked as a question, so the answer to the story question."""
    words = [w.strip(",.!?:;\"'()") for w in fold(analysis.text).replace("’", "'").split()]
    interjections = frozenset().union(*(r.interjections for r in resources().languages.values()))
    while words and words[0] in interjections:  # "wtf, waarom is mijn bestelling geannuleerd"
        words = words[1:]
    start = " ".join(words[:6])
    return any(start == o or start.startswith(o + " ")
               for res in resources().languages.values() for o in res.complaint_openers)


def _about_this_chat(analysis: MessageAnalysis) -> bool:
    """"I've had enough of this chat": fed up with the conversation itself, so a stop."""
    words = set(fold(analysis.text).replace("’", "'").split())
    words = {w.strip(",.!?:;\"'()") for w in words}
    return any(words & res.this_chat for res in resources().languages.values())


def _names_a_person(text: str, language: str) -> bool:
    """Whether the message names a person to talk to, in either language."""
    folded = fold(text)
    for lang, res in resources().languages.items():
        if res.person_terms is not None and res.person_terms.find(get_nlp(lang)(folded)):
            return True
    return False


def ends_story(analysis: MessageAnalysis, intent: str | None, confidence: float | None) -> bool:
    """Whether the customer says the story is told ("dat was het", "that's all"). Being fed
    up ("ik ben er klaar mee") is frustration, not the end of the story."""
    if analysis.fed_up:
        return False
    if analysis.done_signal:
        return True
    return intent == "done" and (confidence or 0.0) >= HIGH_CONFIDENCE \
        and analysis.word_count <= 5 and not analysis.aspects and analysis.sentiment_label == "neutral"
