"""The conversation's logic without Rasa: input checks, routing, request flows, faults."""
