"""E-mail: the outbox every message goes through, and its SMTP delivery."""
