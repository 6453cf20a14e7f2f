"""Carrying privacy requests out in the product's systems: tasks, webhooks, callbacks."""
