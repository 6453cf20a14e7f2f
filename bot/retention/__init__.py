"""Removing chat data past its retention period, and erasure after a deletion.

`ages` (the retention period as typed and printed), `trackers` (Rasa's tracker store, over SQL
or its HTTP API), `erasure` (a completed deletion's chat data), `purge` (the retention period
applied to everything kept only for a while).
"""
