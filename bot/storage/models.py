"""Tables of the request database (SQLAlchemy 1.4 declarative; the schema itself is migrated)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

# Any: SQLAlchemy 1.4 has no type hints (without an annotation mypy rejects it as a base class).
Base: Any = declarative_base()


class UTCDateTime(TypeDecorator):
    """A moment in UTC, timezone-aware on every database. SQLite keeps no zone, so what it
    returns is marked UTC here, once, rather than wherever a value is compared or printed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class PrivacyRequest(Base):
    """A visitor's request to delete, correct, suspend, access or unsubscribe."""

    __tablename__ = "privacy_requests"

    id = Column(Integer, primary_key=True)
    reference = Column(String(10), nullable=False, unique=True)
    kind = Column(String(16), nullable=False, index=True)
    status = Column(String(16), nullable=False, index=True)
    email = Column(String(254), nullable=False, index=True)
    verified_at = Column(UTCDateTime())
    details = Column(JSON, nullable=False, default=dict)
    reason = Column(Text)
    made_by_or_for_minor = Column(Boolean, nullable=False, default=False)
    # "self", or for a minor: "minor" (the minor asks) or "guardian" (a guardian asks for them)
    requester_role = Column(String(16), nullable=False, default="self")
    channel = Column(String(32), nullable=False, default="chat")
    conversation_id = Column(String(128), index=True)
    # Same conversation + same confirming message = the same request (retried action calls).
    idempotency_key = Column(String(200), unique=True)
    rejection_reason = Column(Text)
    # The chat in which the request was made, as the visitor saw it: [{"from", "text", "at"}]
    transcript = Column(JSON)
    created_at = Column(UTCDateTime(), nullable=False)
    due_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)
    # The conversation's language when the request was made (a registered language): its e-mails are
    # written in it, and the legal queue shows it.
    language = Column(String(8), nullable=False, default="en", server_default="en")
    # A completed deletion: when the requester's chat conversations were erased
    # (bot.retention.erasure); empty while that is still to be done, so `python -m bot purge`
    # retries it.
    conversations_erased_at = Column(UTCDateTime())
    # Working the request (bot.requests.casework): who has it, one extension, a hold, and how a
    # rejected one was closed ("duplicate", "spam"; empty for a refusal on the merits).
    assignee = Column(String(64), index=True)
    original_due_at = Column(UTCDateTime())  # the due date before the extension
    extension_reason = Column(Text)
    held_at = Column(UTCDateTime())  # on hold since; empty when not on hold
    hold_reason = Column(String(32))
    hold_note = Column(Text)
    hold_stops_clock = Column(Boolean)
    closed_as = Column(String(16))

    events = relationship(
        "RequestEvent",
        back_populates="request",
        order_by="RequestEvent.id",
        cascade="all, delete-orphan",
    )
    notes = relationship(
        "RequestNote",
        back_populates="request",
        order_by="RequestNote.id",
        cascade="all, delete-orphan",
    )


class Delivery(Base):
    """A copy for an access request (bot.requests.delivery): the file, encrypted, until it is
    fetched or its link expires; the row stays as the record of what was delivered."""

    __tablename__ = "deliveries"

    id = Column(Integer, primary_key=True)
    request_id = Column(
        Integer, ForeignKey("privacy_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash = Column(String(64), nullable=False, unique=True)
    filename = Column(String(200), nullable=False)
    content_type = Column(String(64), nullable=False)
    size = Column(Integer, nullable=False)
    content = Column(LargeBinary)  # nonce + AES-GCM ciphertext; None once fetched or expired
    created_by = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    expires_at = Column(UTCDateTime(), nullable=False)
    downloaded_at = Column(UTCDateTime())

    request = relationship("PrivacyRequest")


class FulfilmentTask(Base):
    """One system's part in carrying out a request (bot.fulfilment): created when legal starts
    the request, delivered to a webhook or ticked by hand, settled by the system's answer."""

    __tablename__ = "fulfilment_tasks"
    __table_args__ = (UniqueConstraint("request_id", "system", name="uq_task_request_system"),)

    id = Column(String(32), primary_key=True)  # random: the task id the system is sent
    request_id = Column(
        Integer, ForeignKey("privacy_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    system = Column(String(64), nullable=False, index=True)
    reach = Column(String(16), nullable=False)  # "webhook" or "manual"
    state = Column(String(16), nullable=False, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)  # why the latest delivery did not settle it: no personal data
    detail = Column(Text)  # what the system (or the member who ticked it) said it did
    settled_by = Column(String(64))
    export_url = Column(Text)  # an access export the worker is still to fetch
    created_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)
    sent_at = Column(UTCDateTime())  # the latest delivery
    settled_at = Column(UTCDateTime())
    next_attempt_at = Column(UTCDateTime(), index=True)
    claimed_until = Column(UTCDateTime())  # a worker's lease on the delivery under way

    request = relationship("PrivacyRequest")


class RequestNote(Base):
    """An internal note (never sent) or a message to the requester (sent through the outbox,
    and shown when they look the request up in the chat)."""

    __tablename__ = "request_notes"

    id = Column(Integer, primary_key=True)
    request_id = Column(
        Integer, ForeignKey("privacy_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind = Column(String(16), nullable=False)  # "note" or "message"
    author = Column(String(64), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)

    request = relationship("PrivacyRequest", back_populates="notes")


class RequestEvent(Base):
    """The audit trail: every status change, with who made it, when, and why."""

    __tablename__ = "request_events"

    id = Column(Integer, primary_key=True)
    request_id = Column(
        Integer, ForeignKey("privacy_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    from_status = Column(String(16))
    to_status = Column(String(16), nullable=False)
    actor = Column(String(64), nullable=False)
    note = Column(Text)
    created_at = Column(UTCDateTime(), nullable=False)

    request = relationship("PrivacyRequest", back_populates="events")


class VerificationCode(Base):
    """A one-time code e-mailed to prove the requester controls the account address."""

    __tablename__ = "verification_codes"

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False)
    salt = Column(String(32), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(UTCDateTime(), nullable=False)
    expires_at = Column(UTCDateTime(), nullable=False)
    consumed_at = Column(UTCDateTime())


class OutboxMessage(Base):
    """An e-mail to send. Written in the same transaction as what it reports, sent later."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),)

    id = Column(Integer, primary_key=True)
    to_address = Column(String(254), nullable=False, index=True)
    subject = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="queued", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    dedupe_key = Column(String(200))
    created_at = Column(UTCDateTime(), nullable=False)
    next_attempt_at = Column(UTCDateTime(), nullable=False)
    sent_at = Column(UTCDateTime())


class StaffUser(Base):
    """A member of staff: legal (reviews requests), support (handoffs), admin (manages staff)."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)
    disabled = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime(), nullable=False)
    last_seen_at = Column(UTCDateTime())
    # Two-factor sign-in (bot.staff.two_factor): the TOTP secret sealed with APP_SECRET, set at
    # enrolment and in force once a first code confirmed it; the last time step used.
    totp_secret = Column(LargeBinary)
    totp_enabled = Column(Boolean, nullable=False, default=False)
    totp_last_step = Column(Integer)
    # The generation of the member's sessions: each session cookie carries the one it was
    # started under, and only the current one is let in. Logging out, disabling the account,
    # a new password or two-factor turned off bump it, ending every session of theirs at once.
    session_epoch = Column(Integer, nullable=False, default=0, server_default="0")


class RecoveryCode(Base):
    """A one-use code that stands in for the authenticator (a lost phone); kept hashed."""

    __tablename__ = "staff_recovery_codes"

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash = Column(String(64), nullable=False)
    used_at = Column(UTCDateTime())


class AuditEntry(Base):
    """Who did what, when: logins, views of requests, status changes, exports, handoffs."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    actor = Column(String(64), nullable=False, index=True)
    action = Column(String(32), nullable=False, index=True)
    target = Column(String(64), index=True)
    detail = Column(Text)
    client = Column(String(64))
    created_at = Column(UTCDateTime(), nullable=False, index=True)
    # The hash chain (bot.staff.audit): this entry's HMAC over its fields and the one before it.
    prev_hash = Column(String(64))
    entry_hash = Column(String(64))


class AuditHead(Base):
    """The chain's last link, one row: writing it first serialises audit entries (a row lock on
    PostgreSQL, the write lock on SQLite), and it tells a deleted last entry from none."""

    __tablename__ = "audit_head"

    id = Column(Integer, primary_key=True)
    last_id = Column(Integer)
    last_hash = Column(String(64))
    entries = Column(Integer, nullable=False, default=0)


class HandoffTicket(Base):
    """A conversation handed from the assistant to a person."""

    __tablename__ = "handoff_tickets"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    status = Column(String(16), nullable=False, index=True)  # waiting, open, closed
    reason = Column(String(32), nullable=False)
    live = Column(Boolean, nullable=False, default=True)  # support was online when it began
    contact_email = Column(String(254))
    transcript = Column(JSON, nullable=False, default=list)
    assigned_to = Column(String(64))
    created_at = Column(UTCDateTime(), nullable=False)
    opened_at = Column(UTCDateTime())
    closed_at = Column(UTCDateTime())
    visitor_seen_at = Column(UTCDateTime())  # the chat page last asked for news
    # The conversation's language (a registered language): the lines the visitor is shown from the
    # support side, and the reply e-mail, are in it; the support pages show it.
    language = Column(String(8), nullable=False, default="en", server_default="en")

    messages = relationship(
        "HandoffMessage",
        back_populates="ticket",
        order_by="HandoffMessage.id",
        cascade="all, delete-orphan",
    )


class HandoffMessage(Base):
    """A line of a handed-over conversation: from the visitor, a staff member, or the system."""

    __tablename__ = "handoff_messages"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sender = Column(String(16), nullable=False)  # visitor, staff, system
    author = Column(String(64))
    text = Column(Text, nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)

    ticket = relationship("HandoffTicket", back_populates="messages")


class PolicyGap(Base):
    """A question the published policy left unanswered: answered `closest` or `not_covered`, not
    understood (`fallback`), or an answer the visitor marked unhelpful (`unhelpful`).

    The legal department's input for the next version of the policy (bot.policy.gaps). Nothing here
    says who asked: the question is masked before it is stored, and no conversation is named."""

    __tablename__ = "policy_gaps"

    id = Column(Integer, primary_key=True)
    reply_kind = Column(String(16), nullable=False, index=True)
    topic = Column(String(64), index=True)  # a coverage topic id; NULL: none recognised
    sections = Column(JSON, nullable=False, default=list)  # section ids the reply cited
    language = Column(String(8), nullable=False)
    question = Column(String(500), nullable=False)  # masked (bot.core.masking.mask_free_text)
    created_at = Column(UTCDateTime(), nullable=False, index=True)


class AnswerFeedback(Base):
    """A visitor's "was this helpful?" for one section an answer cited (NULL: it cited none)."""

    __tablename__ = "answer_feedback"

    id = Column(Integer, primary_key=True)
    section = Column(String(64), index=True)
    helpful = Column(Boolean, nullable=False)
    reply_kind = Column(String(16), nullable=False)
    topic = Column(String(64))
    language = Column(String(8), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False, index=True)
