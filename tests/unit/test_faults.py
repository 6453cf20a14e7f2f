"""Finding what "try again" refers to (bot/faults.py)."""

from bot.conversation import faults


def user(text, intent="inform"):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def apology(action="validate_deletion_form"):
    return {"event": "bot", "text": faults.not_done(), "metadata": {faults.FAILURE_MARK: action}}


def bot(text="What is the e-mail address?"):
    return {"event": "bot", "text": text, "metadata": {}}


def test_the_answer_that_failed_is_found_across_failed_retries():
    events = [
        user("delete my account"),
        bot(),
        user("123456"),
        apology(),
        user("try again", "retry"),
        apology(),
        user("try again", "retry"),
    ]
    assert faults.failed_message(events)["text"] == "123456"
    assert faults.last_reply_was_failure(events)


def test_nothing_failed_or_the_failure_was_answered_since():
    assert faults.failed_message([user("hi"), bot(), user("try again", "retry")]) is None
    events = [user("123456"), apology(), user("123456"), bot("Stored."), user("try again", "retry")]
    assert faults.failed_message(events) is None
    assert faults.failed_message([user("try again", "retry")]) is None


def test_only_our_submit_actions_leave_a_pending_request():
    assert faults.pending_kind("action_submit_correction") == "correction"
    assert faults.pending_kind("action_submit_handoff_contact") is None
    assert faults.pending_kind("validate_deletion_form") is None
    assert faults.failure_text("action_submit_access") == faults.not_saved()
    assert faults.failure_text("action_answer_policy") == faults.not_done()


def test_a_failure_after_the_answer_was_read_leaves_nothing_unread():
    """Only a failed validation leaves the message unread; asking the next question failing
    means the answer was taken already."""
    events = [user("skip", "deny"), apology("action_ask_confirm_request"), user("/retry", "retry")]
    turn = faults.failed_turn(events)
    assert turn is not None and turn.message["text"] == "skip" and not turn.unread
    events = [user("yes", "affirm"), apology(), user("/retry", "retry")]
    turn = faults.failed_turn(events)
    assert turn is not None and turn.unread
