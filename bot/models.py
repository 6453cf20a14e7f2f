"""Tables of the request database (SQLAlchemy 1.4 declarative; the schema itself is migrated)."""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class PrivacyRequest(Base):
    """A visitor's request to delete, correct, suspend, access or unsubscribe."""

    __tablename__ = "privacy_requests"

    id = Column(Integer, primary_key=True)
    reference = Column(String(10), nullable=False, unique=True)
    kind = Column(String(16), nullable=False, index=True)
    status = Column(String(16), nullable=False, index=True)
    email = Column(String(254), nullable=False, index=True)
    verified_at = Column(DateTime(timezone=True))
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
    created_at = Column(DateTime(timezone=True), nullable=False)
    due_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)

    events = relationship("RequestEvent", back_populates="request", order_by="RequestEvent.id",
                          cascade="all, delete-orphan")


class RequestEvent(Base):
    """The audit trail: every status change, with who made it, when, and why."""

    __tablename__ = "request_events"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("privacy_requests.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    from_status = Column(String(16))
    to_status = Column(String(16), nullable=False)
    actor = Column(String(64), nullable=False)
    note = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False)

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
    created_at = Column(DateTime(timezone=True), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    consumed_at = Column(DateTime(timezone=True))


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
    created_at = Column(DateTime(timezone=True), nullable=False)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False)
    sent_at = Column(DateTime(timezone=True))
