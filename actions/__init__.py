"""Custom actions for Rasa: thin adapters from rasa_sdk onto the `bot` package."""
