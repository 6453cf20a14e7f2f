"""Custom actions for Rasa: thin adapters from rasa_sdk onto the `bot` package."""

from bot.core.masking import install_log_masking

# The action server logs what it handles; no e-mail address or phone number may reach a log.
install_log_masking()
