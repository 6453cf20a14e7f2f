"""The privacy requests: kinds, references, lifecycle, validation, store, verification."""
