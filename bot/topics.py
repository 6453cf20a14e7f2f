"""Privacy topics the published policy is silent on, named so the reply can say which one.

The list only names topics; it never says anything about them. Recognising the topic lets the
assistant say "the policy does not say anything about cookies" rather than a vague "that".
"""

from __future__ import annotations

from typing import Optional, Tuple

from bot.text import contains_any

# (what the reply calls the topic, words that point to it) — first match wins, so specific first.
SILENT_TOPICS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("meeting recordings", ("recording", "recordings", "recorded", "record my", "transcript",
                            "transcripts", "transcription")),
    ("how long personal data is kept", ("retain", "retention", "retained", "how long", "keep my",
                                        "kept for", "store my data for", "storage period")),
    ("cookies or tracking technologies", ("cookie", "cookies", "tracking", "tracker", "trackers",
                                          "pixel", "pixels", "fingerprinting")),
    ("notifying users of a data breach", ("breach", "breached", "breaches", "notify me if",
                                          "tell me if")),
    ("using your data to train AI models", ("ai", "machine learning", "train", "training",
                                            "artificial intelligence", "model", "models", "llm")),
    ("location data", ("location", "gps", "geolocation", "where i am", "track where")),
    ("requests from law enforcement or governments", ("police", "law enforcement", "government",
                                                      "governments", "authorities", "subpoena",
                                                      "court", "warrant", "surveillance")),
    ("automated decisions or profiling", ("automated", "profiling", "profile me", "algorithm",
                                          "algorithms", "automatic decision")),
    ("a data protection officer", ("dpo", "data protection officer")),
    ("GDPR, CCPA or other foreign data-protection laws", ("gdpr", "ccpa", "european", "california",
                                                          "eu")),
    ("data portability", ("portability", "port my", "transfer my data to another")),
    ("end-to-end encryption of meetings", ("end to end", "e2e", "e2ee", "end-to-end")),
    ("analytics", ("analytics", "telemetry", "usage statistics")),
    ("biometric or face data", ("biometric", "biometrics", "face", "facial", "voiceprint",
                                "fingerprint")),
    ("deleting backups", ("backup", "backups")),
)


def silent_topic(question: str) -> Optional[str]:
    """The silent topic a question is about, or None when it names none we know."""
    for topic, cues in SILENT_TOPICS:
        if contains_any(question, [c for c in cues]):
            return topic
    return None
