"""Rasa's extension points: graph components, input channels, tracker store, the entry point."""
