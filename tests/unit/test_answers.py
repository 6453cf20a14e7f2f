"""Answers quote the policy verbatim, cite the right heading, and never fill a gap."""

import re

import pytest

import bot.policy.answers as answers_module
from bot.core.texts import button
from bot.policy.answers import (
    CONNECT,
    SHOW_SECTION,
    answer_from_section,
    answer_from_sections,
    closest,
    contact_line,
    full_section,
    no_section_yet,
    not_covered,
    select_sentences,
)
from bot.policy.coverage import SILENT, load_coverage
from bot.policy.document import load_policy
from bot.policy.rights import right_quote, right_sentences
from bot.requests.registry import BY_KIND

POLICY = load_policy()
CONNECT_BUTTON, SHOW_SECTION_BUTTON = button(CONNECT), button(SHOW_SECTION)
NORMALISED_TEXT = " ".join(s.text for sec in POLICY.sections for s in sec.sentences)

# One question per section, and words the chosen sentences must contain.
QUESTIONS = {
    "overview": ("when did this policy take effect", "November 25, 2020"),
    "definitions": ("is an Alipay account personal information", "Alipay account"),
    "collection": ("what information do you collect about me", "collect the information"),
    "use": ("can I stop you using my information", "suspended"),
    "sharing": ("do you rent my data to advertisers", "sell or rent"),
    "security": ("is my credit card encrypted", "SSL encryption"),
    "storage": ("are my data stored on servers abroad", "foreign servers"),
    "communications": ("can I stop the satisfaction surveys", "unsubscribe"),
    "minors": ("my child is 12, does she need my consent", "guardian"),
    "liability": ("what if a hacker attack leaks my data", "hacker attacks"),
    "contact": ("where do I send comments on the policy", "please email to:"),
    "updates": ("how are policy changes announced", "inform you"),
}


HEADINGS = {s.heading for s in POLICY.sections}


def quoted_sentences(text):
    """What a reply quotes from the policy (headings, also in quotes, left out)."""
    return [q for q in re.findall("\u201c(.+?)\u201d", text, flags=re.S) if q not in HEADINGS]


@pytest.mark.parametrize("section_id", [s.id for s in POLICY.sections])
def test_every_section_answers_with_its_heading_and_verbatim_sentences(section_id):
    question, must_contain = QUESTIONS[section_id]
    reply = answer_from_section(POLICY, section_id, question)
    heading = POLICY.section(section_id).heading
    assert f"\u201c{heading}\u201d" in reply.text
    assert reply.section_id == section_id
    assert reply.quoted and any(must_contain in q for q in reply.quoted)
    assert SHOW_SECTION_BUTTON in reply.buttons
    section_texts = {s.text for s in POLICY.section(section_id).sentences}
    for sentence in reply.quoted:
        assert sentence in section_texts or sentence == f"Effective date: {POLICY.effective_date}."
    # No other section's heading is named: the citation is unambiguous.
    others = [s.heading for s in POLICY.sections if s.id != section_id]
    assert not [h for h in others if f"\u201c{h}\u201d" in reply.text]


@pytest.mark.parametrize("section_id", [s.id for s in POLICY.sections])
def test_answers_quote_only_a_part_of_long_sections(section_id):
    section = POLICY.section(section_id)
    reply = answer_from_section(POLICY, section_id, QUESTIONS[section_id][0])
    if len(section.sentences) > 4:
        assert len(reply.quoted) < len(section.sentences)


def test_an_item_is_quoted_with_its_lead_in():
    chosen = select_sentences(POLICY, POLICY.section("liability"), "I gave my password to a friend")
    assert [s.text[:12] for s in chosen] == ["We are not l", "1. Any discl"]


@pytest.mark.parametrize("section_id", ["collection", "use"])
def test_an_announced_list_that_never_comes_is_said_to_be_missing(section_id):
    reply = answer_from_section(POLICY, section_id, "tell me")
    anchor = POLICY.section(section_id).gaps[0].anchor
    assert "the published policy does not list it" in reply.text
    assert anchor in reply.text


@pytest.mark.parametrize("section_id,question", [
    ("security", "who do I contact about the security of my data"),
    ("contact", "how do I reach you"),
])
def test_a_missing_email_address_is_said_to_be_missing_and_the_postal_address_given(
        section_id, question):
    reply = answer_from_section(POLICY, section_id, question)
    assert "the published policy does not give an e-mail address" in reply.text
    assert contact_line(POLICY) in reply.text
    assert not re.search(r"[\w.]+@[\w.]+", reply.text), "an e-mail address was invented"


def test_security_answer_without_contact_words_has_no_contact_note():
    reply = answer_from_section(POLICY, "security", "do you use SSL for credit cards")
    assert "e-mail address" not in reply.text


def test_full_section_gives_every_paragraph_and_the_gap():
    for section in POLICY.sections:
        reply = full_section(POLICY, section.id)
        for paragraph in section.paragraphs:
            assert paragraph in reply.text
        for _gap in section.gaps:
            assert "the published policy does not" in reply.text
    assert "Effective date: November 25, 2020" in full_section(POLICY, "overview").text


def test_no_section_yet_invites_a_question():
    assert "Ask me a question" in no_section_yet().text


@pytest.mark.parametrize("question,topic", [
    ("how long do you keep my recordings of meetings", "meeting_recordings"),
    ("do you place cookies on my browser", "cookies"),
    ("will the police get my data if they ask", "law_enforcement"),
    ("do you train ai on my calls", "transcription_ai"),
    ("is my gps location collected", "location"),
    ("what is your data retention period", "retention"),
    ("do you make automated decisions about me", "automated_decisions"),
    ("does the app require mic permissions?", "camera_microphone"),
])
def test_silent_topics_are_recognised(question, topic):
    match = load_coverage().match(question)
    assert match is not None and match.topic.id == topic


def test_not_covered_says_so_offers_a_person_and_the_postal_address():
    for topic in load_coverage().by_status()[SILENT]:
        reply = not_covered(POLICY, topic.name)
        assert f"the policy does not say anything about {topic.name}" in reply.text
        assert contact_line(POLICY) in reply.text
        assert CONNECT_BUTTON in reply.buttons
        assert not any(s.heading in reply.text for s in POLICY.sections)
    assert "the policy does not say anything about that" in not_covered(POLICY, None).text


def test_closest_names_the_topic_says_the_policy_does_not_and_quotes_under_the_heading():
    topic = load_coverage().topic("payment_information")
    reply = closest(POLICY, "security", "where is my card number stored", topic.name,
                    topic.leaves_out, topic.evidence)
    assert reply.text.startswith(f"The policy does not address exactly {topic.name}.")
    assert "\u201cSecurity of your personal information\u201d" in reply.text
    assert quoted_sentences(reply.text) == [topic.evidence[0]]
    assert f"It does not say {topic.leaves_out}." in reply.text
    assert contact_line(POLICY) in reply.text and CONNECT_BUTTON in reply.buttons
    assert reply.section_ids == ("security",)


def test_closest_without_a_topic_quotes_the_best_sentences_of_the_section():
    reply = closest(POLICY, "storage", "are you holding my files somewhere", None)
    assert "The policy does not address exactly what you asked" in reply.text
    assert all(q in NORMALISED_TEXT for q in quoted_sentences(reply.text))


def test_two_sections_each_under_its_heading():
    reply = answer_from_sections(POLICY, [("sharing", "who do you share my data with", None),
                                          ("storage", "where is it kept", None)])
    sharing = reply.text.index("\u201cShare your personal information\u201d says:")
    storage = reply.text.index("\u201cTransmission and storage of personal data\u201d says:")
    assert sharing < storage
    assert reply.section_ids == ("sharing", "storage") and reply.section_id == "sharing"
    assert all(q in NORMALISED_TEXT for q in quoted_sentences(reply.text))


def test_encoder_scores_choose_the_sentence_that_answers():
    """Shared words alone miss that 13 is an age under 14; the encoder's scores do not."""
    from bot.nlu.encoder import load_encoder

    section = POLICY.section("minors")
    question = "I am 13, can I use VideoPro?"
    pool = [s.text for s in answers_module.candidates(POLICY, section)]
    encoder = load_encoder()
    scores = list(encoder.encode(pool) @ encoder.encode_one(question))
    chosen = [s.text for s in select_sentences(POLICY, section, question, scores=scores)]
    assert any("under the age of 14" in s for s in chosen), chosen


@pytest.mark.parametrize("kind", sorted(BY_KIND))
def test_each_right_is_quoted_from_the_policy(kind):
    heading, sentences = right_sentences(POLICY, BY_KIND[kind])
    assert heading == POLICY.section(BY_KIND[kind].right_section).heading
    assert sentences and all(sentence in NORMALISED_TEXT for sentence in sentences)
    assert heading in right_quote(POLICY, BY_KIND[kind])


def test_unsubscribe_right_mentions_the_service_announcements_that_stay():
    _, sentences = right_sentences(POLICY, BY_KIND["unsubscribe"])
    assert any("unsubscribe" in s for s in sentences)
    assert any("service related announcements" in s for s in sentences)
