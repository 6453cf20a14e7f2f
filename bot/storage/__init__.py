"""The request database: engine, sessions and tables (the schema itself is migrated)."""
