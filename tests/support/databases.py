"""Databases for tests: a scratch PostgreSQL database, and copies of a migrated SQLite one.

Migrating a request database with Alembic takes about half a second; the conftest migrates one
SQLite database per session (the `sqlite_template` fixture) and every test that wants an empty,
migrated one gets a copy of it (`copy_sqlite`), which takes a millisecond.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Tuple

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_database() -> Tuple[Engine, str, str]:
    """A fresh PostgreSQL database: (the admin engine, its name, its URL), or a skip saying why
    not. The caller drops it (`DROP DATABASE ... WITH (FORCE)` over the admin engine)."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            name = f"privacy_test_{uuid.uuid4().hex[:8]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means: no usable server here
        pytest.skip(
            f"PostgreSQL at {POSTGRES_ADMIN_URL} is not available: {error.__class__.__name__}"
        )
    return admin, name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_sqlite(template: Path, target: Path) -> str:
    """`template` copied to `target` with SQLite's backup API (consistent even with a WAL beside
    it), returning the copy's URL."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(template)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return sqlite_url(target)
