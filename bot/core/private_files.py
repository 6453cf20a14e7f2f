"""Files that hold personal data or secrets are readable by their owner alone.

`var/` holds the request database (e-mail addresses, transcripts, the outbox with live
verification codes), logs and benchmark runs; `.env` holds the API token and APP_SECRET. New
files there are created 0600 and new folders 0700: the command line (`python -m bot ...`), the
supervisor and every server it starts run with the umask 077, and the request database and the
stack's logs are created 0600 whatever the umask of whoever creates them. What an older version
left readable to others is tightened when the stack starts (`tighten`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator, Literal, TextIO

PRIVATE_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def keep_private() -> None:
    """This process and its children create files for their owner alone."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """`path` as a folder, created 0700 when missing (its missing parents too). An existing
    folder is left as it is: it may be anyone's (a temporary folder, a mount point)."""
    if not path.is_dir():
        missing = [path, *(p for p in path.parents if not p.exists())]
        for folder in reversed(missing):
            folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
            os.chmod(folder, PRIVATE_DIR)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path) -> Path:
    """`path` created empty and 0600 when missing, so that whatever writes it next (SQLite, a
    log) writes into a file no one else can read; an existing one loses group and other
    access."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    restrict(path)
    return path


def open_private(path: Path, mode: Literal["a", "w"] = "a", encoding: str = "utf-8") -> TextIO:
    """open(path, mode) for text, the file created 0600 when it is new."""
    private_file(path)
    return open(path, mode, encoding=encoding)


def restrict(path: Path) -> bool:
    """Take group and other access away from `path` (a file keeps its owner's bits, so a
    script stays executable). Symbolic links and what others own are left alone. Returns
    whether the mode changed."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        return False
    mode = stat.S_IMODE(info.st_mode)
    wanted = (mode & 0o700) | (PRIVATE_DIR if stat.S_ISDIR(info.st_mode) else 0)
    if mode == wanted:
        return False
    try:
        os.chmod(path, wanted)
    except OSError:
        return False
    return True


def _walk(root: Path) -> Iterator[Path]:
    yield root
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            yield Path(folder) / name


def tighten(*paths: Path) -> int:
    """Each path, and everything under a folder among them, made private (`restrict`).
    Missing paths are skipped. Returns how many modes changed."""
    changed = 0
    for path in paths:
        if path.is_symlink() or not path.exists():
            continue
        for item in _walk(path) if path.is_dir() else iter([path]):
            changed += restrict(item)
    return changed
