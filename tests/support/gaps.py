"""What the policy actions wrote to the gap log, for the tests of those actions."""

from __future__ import annotations

from typing import List

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage.models import PolicyGap


def gaps(engine: Engine) -> List[PolicyGap]:
    with Session(engine) as session:
        return list(session.execute(select(PolicyGap)).scalars().all())
