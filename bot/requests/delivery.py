"""Access and copy requests, delivered: the file legal attaches (the product systems' export) or
the package of what this assistant itself holds about the address, encrypted at rest, fetched once
through a link that also needs a fresh code e-mailed to the requester, and gone after expiry.

Why each part: the link travels by e-mail, so the link alone must not be enough (the code proves
the mailbox again, at download time); the file sits in the request database, which backups copy,
so it is stored encrypted (AES-256-GCM, a key derived from APP_SECRET, which is not in the
database) and deleted once fetched or expired (`python -m bot purge`); each use is audited.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Tuple

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.sealing import seal, unseal
from bot.core.settings import load_settings
from bot.core.texts import text
from bot.mail.outbox import enqueue
from bot.requests import lifecycle, verification
from bot.requests.code_masking import mask_transcript
from bot.staff import audit
from bot.storage.db import session_factory, transaction
from bot.storage.models import Delivery, HandoffTicket, PrivacyRequest

# What an attached export may be, told by its first bytes as well as by its name.
ALLOWED: Dict[str, Tuple[str, Optional[bytes]]] = {
    ".zip": ("application/zip", b"PK\x03\x04"),
    ".pdf": ("application/pdf", b"%PDF-"),
    ".json": ("application/json", None),
    ".csv": ("text/csv", None),
    ".txt": ("text/plain", None),
}
PURPOSE = b"delivery"


class DeliveryError(ValueError):
    """Not deliverable (the message says why, for the staff member or the requester). `reason`
    names the case for a page to explain it in its reader's words: for the requester "unknown"
    (no such link), "used", "expired", "code_<outcome>" (a verification outcome: code_wrong,
    code_expired, code_locked, code_missing); for the desk "file_type", "file_empty",
    "file_size", "file_content", "file_text" (`check_file`), "unknown_request", "not_access",
    "closed"; "invalid" for anything else."""

    def __init__(self, message: str, reason: str = "invalid", attempts_left: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.attempts_left = attempts_left


@dataclass(frozen=True)
class Prepared:
    token: str  # in the e-mailed link only; the database keeps its hash
    expires_at: datetime
    size: int


def encrypt(data: bytes, secret: str, context: bytes) -> bytes:
    """`context` (the delivery's token hash) is authenticated with the file, so a stored file
    moved onto another delivery's row does not decrypt."""
    return seal(data, secret, PURPOSE, context)


def decrypt(blob: bytes, secret: str, context: bytes) -> bytes:
    return unseal(blob, secret, PURPOSE, context)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_file(filename: str, content: bytes, max_bytes: int) -> str:
    """The content type of an acceptable export; DeliveryError for anything else."""
    extension = os.path.splitext(filename.lower())[1]
    if extension not in ALLOWED:
        raise DeliveryError(f"only {', '.join(ALLOWED)} files can be delivered", "file_type")
    if not content:
        raise DeliveryError("the file is empty", "file_empty")
    if len(content) > max_bytes:
        raise DeliveryError(f"the file is larger than {max_bytes // 1_000_000} MB", "file_size")
    content_type, magic = ALLOWED[extension]
    if magic is not None and not content.startswith(magic):
        raise DeliveryError(f"the file is not a {extension[1:].upper()} file", "file_content")
    if magic is None:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise DeliveryError(f"a {extension} file must be UTF-8 text", "file_text") from None
    return content_type


def _when(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value else None


def package(session: Session, email: str) -> bytes:
    """A ZIP of what the assistant holds about the address: its requests with their history,
    the legal department's messages (not its internal notes), the chat transcripts they were
    made in, and handoff tickets that gave this address; JSON and CSV."""
    requests = list(
        session.execute(
            select(PrivacyRequest).where(PrivacyRequest.email == email).order_by(PrivacyRequest.id)
        ).scalars()
    )
    conversations = {r.conversation_id for r in requests if r.conversation_id}
    tickets = list(
        session.execute(
            select(HandoffTicket)
            .where(
                or_(
                    HandoffTicket.contact_email == email,
                    HandoffTicket.conversation_id.in_(conversations or {""}),
                )
            )
            .order_by(HandoffTicket.id)
        ).scalars()
    )
    data: Dict[str, Any] = {
        "email": email,
        "requests": [
            {
                "reference": r.reference,
                "kind": r.kind,
                "status": r.status,
                "created_at": _when(r.created_at),
                "due_at": _when(r.due_at),
                "details": r.details,
                "reason": r.reason,
                "rejection_reason": r.rejection_reason,
                "history": [
                    {
                        "at": _when(e.created_at),
                        "from": e.from_status,
                        "to": e.to_status,
                        "note": e.note,
                    }
                    for e in r.events
                ],
                "messages_from_legal": [
                    {"at": _when(n.created_at), "text": n.body}
                    for n in r.notes
                    if n.kind == "message"
                ],
                "transcript": mask_transcript(r.transcript or []),
            }
            for r in requests
        ],
        "handoff_tickets": [
            {
                "created_at": _when(t.created_at),
                "reason": t.reason,
                "status": t.status,
                "transcript": mask_transcript(t.transcript or []),
            }
            for t in tickets
        ],
    }
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["reference", "kind", "status", "created_at", "due_at"])
    for r in data["requests"]:
        writer.writerow([r["reference"], r["kind"], r["status"], r["created_at"], r["due_at"]])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", text("delivery.package_readme"))
        archive.writestr(
            "privacy-assistant.json", json.dumps(data, ensure_ascii=False, indent=2, default=str)
        )
        archive.writestr("requests.csv", rows.getvalue())
    return out.getvalue()


class Deliveries:
    def __init__(self, engine: Engine, secret: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = session_factory(engine)
        self.secret = secret
        self.clock = clock

    @staticmethod
    def _access_request(session: Session, reference: str) -> PrivacyRequest:
        request = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == reference).with_for_update()
        ).scalar_one_or_none()
        if request is None:
            raise DeliveryError(f"no request {reference}", "unknown_request")
        if request.kind != "access":
            raise DeliveryError("only an access/copy request gets a copy delivered", "not_access")
        if request.status not in lifecycle.OPEN_STATUSES:
            raise DeliveryError(f"{reference} is {request.status}, no longer open", "closed")
        return request

    def attach(
        self, reference: str, filename: str, content: bytes, actor: str, link_base: str
    ) -> Prepared:
        """Store an export for the requester and e-mail them the link."""
        settings = load_settings()
        content_type = check_file(filename, content, settings.delivery_max_bytes)
        return self._prepare(
            reference, os.path.basename(filename), content_type, content, actor, link_base
        )

    def generate(self, reference: str, actor: str, link_base: str) -> Prepared:
        """The package of what this assistant holds about the request's address."""
        with transaction(self.sessions) as session:
            email = self._access_request(session, reference).email
            content = package(session, email)
        return self._prepare(
            reference,
            f"{reference}-privacy-assistant.zip",
            "application/zip",
            content,
            actor,
            link_base,
        )

    def _prepare(
        self,
        reference: str,
        filename: str,
        content_type: str,
        content: bytes,
        actor: str,
        link_base: str,
    ) -> Prepared:
        token = secrets.token_urlsafe(32)
        digest = _token_hash(token)
        with transaction(self.sessions) as session:
            request = self._access_request(session, reference)
            now = self.clock()
            expires = now + timedelta(days=load_settings().delivery_expiry_days)
            session.add(
                Delivery(
                    request_id=request.id,
                    token_hash=digest,
                    filename=filename,
                    content_type=content_type,
                    size=len(content),
                    created_by=actor,
                    content=encrypt(content, self.secret, digest.encode()),
                    created_at=now,
                    expires_at=expires,
                )
            )
            audit.append(
                session,
                actor,
                "delivery_prepared",
                reference,
                f"{filename}, {len(content)} bytes",
                now=now,
            )
            language = getattr(request, "language", None) or "en"
            enqueue(
                session,
                request.email,
                text("email.request_subject", language, reference=reference),
                text(
                    "delivery.email",
                    language,
                    reference=reference,
                    link=f"{link_base.rstrip('/')}/download/{token}",
                    date=expires.date().isoformat(),
                ),
                now=now,
            )
        return Prepared(token, expires, len(content))

    def _usable(self, session: Session, token: str) -> Delivery:
        found = session.execute(
            select(Delivery).where(Delivery.token_hash == _token_hash(token)).with_for_update()
        ).scalar_one_or_none()
        if found is None or found.content is None:
            # A fetched copy is deleted at once; one deleted unfetched was purged after expiry.
            reason = (
                "unknown"
                if found is None
                else "used"
                if found.downloaded_at is not None
                else "expired"
            )
            raise DeliveryError("this link is not valid, or it has been used already", reason)
        if found.expires_at <= self.clock():
            raise DeliveryError("this link has expired", "expired")
        return found

    def check(self, token: str) -> Tuple[str, datetime]:
        """Whether a link can still be used (DeliveryError, naming why, if not): the address
        the code will go to, masked, and when the link expires. Changes nothing."""
        from bot.core.masking import mask_email

        with transaction(self.sessions) as session:
            delivery = self._usable(session, token)
            return mask_email(delivery.request.email), delivery.expires_at

    def send_code(self, token: str) -> str:
        """E-mail a fresh code to the requester for this link; the address, masked, to show."""
        from bot.core.masking import mask_email

        with transaction(self.sessions) as session:
            delivery = self._usable(session, token)
            email = delivery.request.email
            verification.issue_code(
                session,
                self.secret,
                email,
                f"delivery:{delivery.id}",
                self.clock(),
                language=getattr(delivery.request, "language", None) or "en",
            )
        return mask_email(email)

    def download(
        self, token: str, code: str, client: Optional[str] = None
    ) -> Tuple[str, str, bytes]:
        """(filename, content type, the file) once the code checks; the stored copy is then
        deleted, so the link works once. DeliveryError otherwise (a wrong code counts)."""
        refused: Optional[DeliveryError] = None
        with transaction(self.sessions) as session:
            delivery = self._usable(session, token)
            request = delivery.request
            checked = verification.check_code(
                session,
                self.secret,
                request.email,
                f"delivery:{delivery.id}",
                code.strip(),
                self.clock(),
            )
            if checked.ok:
                content = decrypt(delivery.content, self.secret, delivery.token_hash.encode())
                now = self.clock()
                delivery.downloaded_at, delivery.content = now, None
                audit.append(
                    session,
                    "requester",
                    "download",
                    request.reference,
                    delivery.filename,
                    client=client,
                    now=now,
                )
                fetched = (delivery.filename, delivery.content_type, content)
            else:
                # Raised once the transaction has kept the wrong try: raising inside it would
                # roll the count back, and the code could be guessed without limit.
                refused = DeliveryError(
                    f"the code was not accepted ({checked.outcome})",
                    f"code_{checked.outcome}",
                    checked.attempts_left,
                )
        if refused is not None:
            raise refused
        return fetched

    def for_request(self, reference: str) -> List[Delivery]:
        with transaction(self.sessions) as session:
            return list(
                session.execute(
                    select(Delivery)
                    .join(PrivacyRequest)
                    .where(PrivacyRequest.reference == reference)
                    .order_by(Delivery.id)
                ).scalars()
            )


def purge_expired(session: Session, now: datetime) -> int:
    """Delete the stored files of deliveries past their expiry (a fetched one is gone already);
    the row stays, as the record that a copy was delivered. How many files were deleted."""
    expired = list(
        session.execute(
            select(Delivery).where(Delivery.content.is_not(None), Delivery.expires_at <= now)
        ).scalars()
    )
    for delivery in expired:
        delivery.content = None
    return len(expired)
