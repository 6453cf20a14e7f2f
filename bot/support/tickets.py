"""Handing a conversation from the assistant to a person, and back.

A ticket carries the transcript so far. While it is open (or waiting for a support member who
was online when it began) the web app routes the visitor's messages to it instead of to Rasa;
staff replies reach the chat window when the visitor's page is open, and otherwise go out by
e-mail through the outbox when the visitor left an address. The lines the support side adds for
the visitor, and the reply e-mail, are in the catalogue of texts (`handoff.*`,
`email.support_reply.*`), in the ticket's language: the conversation's when it was handed over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.clock import utcnow
from bot.core.language import or_default
from bot.core.masking import mask_email
from bot.mail.outbox import enqueue
from bot.staff import audit
from bot.storage.db import in_conversation, make_engine, session_factory, transaction
from bot.storage.models import HandoffMessage, HandoffTicket

log = logging.getLogger(__name__)

WAITING, OPEN, CLOSED = "waiting", "open", "closed"
REASONS = ("asked", "fallback", "verification_failed", "not_covered")
VISITOR_PRESENT = timedelta(seconds=20)  # the chat page polls every few seconds


@dataclass(frozen=True)
class TicketView:
    id: int
    conversation_id: str
    status: str
    reason: str
    live: bool
    contact_email: Optional[str]
    assigned_to: Optional[str]
    created_at: datetime
    transcript: List[Dict[str, Any]]
    messages: List[Dict[str, Any]]
    language: str = texts.DEFAULT_LANGUAGE  # the conversation's: a registered language


def _message(m: HandoffMessage) -> Dict[str, Any]:
    return {
        "id": m.id,
        "sender": m.sender,
        "author": m.author,
        "text": m.text,
        "at": m.created_at.isoformat(),
    }


def _view(t: HandoffTicket) -> TicketView:
    return TicketView(
        t.id,
        t.conversation_id,
        t.status,
        t.reason,
        t.live,
        t.contact_email,
        t.assigned_to,
        t.created_at,
        list(t.transcript or []),
        [_message(m) for m in t.messages],
        _language(t),
    )


def _language(ticket: HandoffTicket) -> str:
    return or_default(ticket.language)


class Handoffs:
    def __init__(self, engine: Optional[Engine] = None) -> None:
        self.engine = engine or make_engine()
        self.sessions = session_factory(self.engine)

    def _active(self, session: Session, conversation_id: str) -> Optional[HandoffTicket]:
        return (
            session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.conversation_id == conversation_id,
                    HandoffTicket.status.in_((WAITING, OPEN)),
                )
                .order_by(HandoffTicket.id.desc())
            )
            .scalars()
            .first()
        )

    def create(
        self,
        conversation_id: str,
        reason: str,
        transcript: List[Dict[str, Any]],
        live: bool,
        contact_email: Optional[str] = None,
        language: str = texts.DEFAULT_LANGUAGE,
    ) -> TicketView:
        """A ticket for the conversation, in its `language`; an unfinished one is reused rather
        than duplicated (and takes the language the conversation has now)."""
        language = or_default(language)
        with transaction(self.sessions) as session:
            ticket = self._active(session, conversation_id)
            if ticket is None:
                ticket = HandoffTicket(
                    conversation_id=conversation_id,
                    status=WAITING,
                    reason=reason if reason in REASONS else "asked",
                    live=live,
                    contact_email=contact_email,
                    transcript=transcript,
                    created_at=utcnow(),
                    language=language,
                )
                session.add(ticket)
                session.flush()
                # Named by its number: the conversation id is the visitor's key to the chat.
                audit.append(session, "assistant", "handoff_created", str(ticket.id), reason)
                log.info("Handoff ticket %s created (%s)", ticket.id, reason)
            else:
                ticket.language = language
                if contact_email:
                    ticket.contact_email = contact_email
            return _view(ticket)

    def set_contact(self, conversation_id: str, email: str) -> Optional[TicketView]:
        with transaction(self.sessions) as session:
            ticket = self._active(session, conversation_id)
            if ticket is None:
                return None
            ticket.contact_email = email
            log.info(
                "Handoff ticket %s will be answered by e-mail to %s", ticket.id, mask_email(email)
            )
            return _view(ticket)

    def routed_ticket(self, conversation_id: str) -> Optional[int]:
        """The ticket that takes this visitor's messages instead of the assistant, if any."""
        with transaction(self.sessions) as session:
            ticket = self._active(session, conversation_id)
            if ticket is None or (ticket.status == WAITING and not ticket.live):
                return None
            return ticket.id

    def from_visitor(self, ticket_id: int, text: str) -> None:
        with transaction(self.sessions) as session:
            ticket = session.get(HandoffTicket, ticket_id)
            ticket.visitor_seen_at = utcnow()
            session.add(
                HandoffMessage(
                    ticket_id=ticket_id, sender="visitor", text=text, created_at=utcnow()
                )
            )

    def news_for_visitor(self, conversation_id: str, after: int) -> List[Dict[str, Any]]:
        """Staff and system lines since `after`, for the visitor's chat window."""
        with transaction(self.sessions) as session:
            tickets = list(
                session.execute(
                    select(HandoffTicket).where(HandoffTicket.conversation_id == conversation_id)
                ).scalars()
            )
            now = utcnow()
            for ticket in tickets:
                if ticket.status != CLOSED:
                    ticket.visitor_seen_at = now
            ids = [t.id for t in tickets]
            if not ids:
                return []
            rows = session.execute(
                select(HandoffMessage)
                .where(
                    HandoffMessage.ticket_id.in_(ids),
                    HandoffMessage.id > after,
                    HandoffMessage.sender != "visitor",
                )
                .order_by(HandoffMessage.id)
            ).scalars()
            return [_message(m) for m in rows]

    def open(self, ticket_id: int, staff: str) -> TicketView:
        with transaction(self.sessions) as session:
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is None:
                raise KeyError(ticket_id)
            if ticket.status == WAITING:
                ticket.status = OPEN
                ticket.assigned_to = staff
                ticket.opened_at = utcnow()
                session.add(
                    HandoffMessage(
                        ticket_id=ticket.id,
                        sender="system",
                        created_at=utcnow(),
                        text=texts.text("handoff.staff_joined", _language(ticket), staff=staff),
                    )
                )
                audit.append(session, staff, "handoff_opened", str(ticket.id))
            return _view(ticket)

    def reply(self, ticket_id: int, staff: str, text: str) -> str:
        """Add a staff reply. Returns how it reaches the visitor: "chat" or "email" (or "none")."""
        with transaction(self.sessions) as session:
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is None or ticket.status == CLOSED:
                raise KeyError(ticket_id)
            now = utcnow()
            session.add(
                HandoffMessage(
                    ticket_id=ticket.id, sender="staff", author=staff, text=text, created_at=now
                )
            )
            audit.append(session, staff, "handoff_reply", str(ticket.id))
            seen = ticket.visitor_seen_at
            if seen is not None and now - seen <= VISITOR_PRESENT:
                return "chat"
            if ticket.contact_email:
                language = _language(ticket)
                enqueue(
                    session,
                    ticket.contact_email,
                    texts.text("email.support_reply.subject", language),
                    texts.text("email.support_reply.body", language, text=text, staff=staff),
                    now=now,
                )
                return "email"
            return "none"

    def close(self, ticket_id: int, staff: str) -> TicketView:
        with transaction(self.sessions) as session:
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is None:
                raise KeyError(ticket_id)
            if ticket.status != CLOSED:
                ticket.status = CLOSED
                ticket.closed_at = utcnow()
                session.add(
                    HandoffMessage(
                        ticket_id=ticket.id,
                        sender="system",
                        text=texts.text("handoff.back_to_assistant", _language(ticket)),
                        created_at=utcnow(),
                    )
                )
                audit.append(session, staff, "handoff_closed", str(ticket.id))
            return _view(ticket)

    def ticket_ids_in_conversation(self, conversation_id: Optional[str]) -> List[int]:
        return in_conversation(self.sessions, HandoffTicket.id, conversation_id)

    def get(self, ticket_id: int) -> Optional[TicketView]:
        with transaction(self.sessions) as session:
            ticket = session.get(HandoffTicket, ticket_id)
            return _view(ticket) if ticket else None

    def list(self, status: Optional[str] = None) -> List[TicketView]:
        with transaction(self.sessions) as session:
            query = select(HandoffTicket).order_by(HandoffTicket.id.desc())
            if status:
                query = query.where(HandoffTicket.status == status)
            return [_view(t) for t in session.execute(query).scalars()]
