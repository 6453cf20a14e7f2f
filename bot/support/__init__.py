"""Handing a conversation to a person: tickets and their messages."""
