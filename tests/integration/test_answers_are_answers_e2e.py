"""An answer is an answer, through the real REST channel, Rasa server and action server
(issue #13): one-word verdicts, short wishes, fed-up idioms and swearing inside the form are
stored as the answer, no "Sorry, dat kon ik niet goed lezen", and the question moves on."""
from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

NOT_READ = ("kon ik niet goed lezen", "kwam niet helemaal goed door", "couldn't quite read", "didn't come through")


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def start(stack, who: str, score: str = "3") -> str:
    stack.say(who, "hoi")
    return stack.say(who, score)  # the reason question


@pytest.mark.parametrize("answer", ["rampzalig", "meh", "het mag allemaal wat sneller", "ik ben het zat",
                                    "ik heb er schoon genoeg van"])
def test_a_plain_answer_is_stored_and_the_conversation_moves_on(gehoor_stack, answer):
    who = sender("answer")
    asked = start(gehoor_stack, who)
    reply = gehoor_stack.say(who, answer)
    assert not any(p in reply for p in NOT_READ), reply
    assert reply.strip() and reply != asked, "the same question must not come back"
    assert "stoppen hier" not in reply and "klopt" not in reply.lower(), "not a stop, not the summary"
    story = gehoor_stack.story(who)
    assert story.answers.get("reason") == answer, story.answers
    assert story.status == "in_progress"


def test_swearing_about_the_service_is_feedback_met_calmly_once(gehoor_stack):
    who = sender("abuse")
    asked = start(gehoor_stack, who)
    first = gehoor_stack.say(who, "wat een klotebedrijf")
    assert "?" in first and first != asked
    assert gehoor_stack.story(who).answers.get("reason") == "wat een klotebedrijf"
    second = gehoor_stack.say(who, "echt een kutbedrijf")
    assert "?" in second
    calm_lines = ("flink mee zit", "Dat is duidelijk. Mensen van")
    assert sum(line in first + second for line in calm_lines) == 1, (first, second)


def test_an_idiom_of_being_fed_up_is_not_done(gehoor_stack):
    who = sender("fedup")
    start(gehoor_stack, who)
    gehoor_stack.say(who, "de bezorger kwam weer niet opdagen en niemand belde terug")
    reply = gehoor_stack.say(who, "ik ben er klaar mee")
    assert "klopt" not in reply.lower(), "one fed-up answer must not jump to the summary"
    story = gehoor_stack.story(who)
    assert "frustration" in story.emotions


def test_a_clear_stop_still_stops(gehoor_stack):
    who = sender("stop")
    start(gehoor_stack, who)
    reply = gehoor_stack.say(who, "ik wil stoppen")
    assert "stoppen" in reply
    assert gehoor_stack.story(who).status == "abandoned"
