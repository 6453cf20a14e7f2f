"""Removing chat data past its retention period, and erasure after a deletion."""
