"""`make eval`'s count of the two silence errors, on hand-made outcomes: an item the policy
addresses answered as not covered, and a silent item answered with a section."""

from bot.devtools.eval import (
    Outcome,
    addressed_only,
    answers_with_section,
    report,
    says_silent,
    silence_counts,
    silent_only,
)
from bot.policy.document import load_policy

POLICY = load_policy()
SECURITY = POLICY.section("security").heading
SILENT_REPLY = "I'm sorry: the policy does not say anything about location data."
CLOSEST_REPLY = (
    f"The policy does not address exactly that. The closest it comes is in “{SECURITY}”:"
)
DIRECT_REPLY = f"The policy section “{SECURITY}” says: ..."


def outcome(expect, reply, kind=None, passed=False):
    return Outcome(
        "q", expect, expect.split(":")[0], passed, reply, "ask_security", None, kind=kind
    )


def test_which_items_count_as_addressed_or_silent():
    assert addressed_only("section:security")
    assert addressed_only("section:communications|intent:request_unsubscribe")
    assert not addressed_only("section:security|not_covered")
    assert silent_only("not_covered")
    assert silent_only("not_covered|intent:request_suspension")
    assert not silent_only("not_covered|section:collection")
    assert not addressed_only("intent:request_deletion") and not silent_only("out_of_scope")


def test_a_declared_kind_decides_and_the_words_decide_without_one():
    assert says_silent(POLICY, outcome("section:security", "anything", kind="not_covered"))
    assert not says_silent(POLICY, outcome("section:security", SILENT_REPLY, kind="closest"))
    assert says_silent(POLICY, outcome("section:security", SILENT_REPLY))
    # "The closest the policy comes" quotes a section: neither silent nor an answer.
    assert not says_silent(POLICY, outcome("section:security", CLOSEST_REPLY))
    assert not answers_with_section(POLICY, outcome("not_covered", CLOSEST_REPLY))
    assert answers_with_section(POLICY, outcome("not_covered", DIRECT_REPLY))
    assert answers_with_section(POLICY, outcome("not_covered", "x", kind="direct"))
    assert not answers_with_section(POLICY, outcome("not_covered", DIRECT_REPLY, kind="closest"))


def test_the_counts_and_the_report_lines():
    outcomes = [
        outcome("section:security", DIRECT_REPLY, "direct", passed=True),
        outcome("section:security", SILENT_REPLY, "not_covered"),
        outcome("section:security|intent:request_deletion", SILENT_REPLY),
        outcome("section:security|not_covered", SILENT_REPLY, "not_covered", passed=True),
        outcome("not_covered", DIRECT_REPLY, "direct"),
        outcome("not_covered", SILENT_REPLY, "not_covered", passed=True),
        outcome("not_covered", CLOSEST_REPLY, "closest", passed=True),
        outcome("intent:request_deletion", SILENT_REPLY),
    ]
    counts = silence_counts(POLICY, outcomes)
    assert (counts.addressed, counts.called_silent, counts.silent, counts.answered) == (3, 2, 3, 1)
    text = report(outcomes, POLICY)
    assert "addressed by the policy, answered as not covered: 2 of 3 = 66.7%" in text
    assert "silent in the policy, answered with a section: 1 of 3 = 33.3%" in text


def test_a_file_without_such_items_says_so_without_dividing_by_zero():
    counts = silence_counts(POLICY, [outcome("intent:request_deletion", "Sure.")])
    assert counts.lines() == [
        "addressed by the policy, answered as not covered: 0 of 0 = -",
        "silent in the policy, answered with a section: 0 of 0 = -",
    ]
