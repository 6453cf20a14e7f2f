"""The published policy: parsed, quoted, mapped by topic, and what it leaves unanswered."""
