"""An SMTP inbox for aiosmtpd's Controller: what a real SMTP server on localhost received."""

import email


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"
