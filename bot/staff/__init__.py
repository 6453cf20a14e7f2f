"""Staff accounts, roles, sign-in limits and the audit log."""
