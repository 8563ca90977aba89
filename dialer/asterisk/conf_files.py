"""Writing generated Asterisk config files to a directory: private (mode 0600, they hold the AMI secret)."""

from __future__ import annotations

import os
from pathlib import Path


def write_conf_dir(directory: Path, files: dict[str, str], *, prune: bool = False) -> None:
    """Write `files` ({name: text}) into `directory`, created if missing; `prune` removes any other file."""
    directory.mkdir(parents=True, exist_ok=True)
    if prune:
        for stale in {p.name for p in directory.iterdir()} - set(files):
            (directory / stale).unlink()
    for name, text in files.items():
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when the file existed with wider permissions
        with os.fdopen(fd, "w") as out:
            out.write(text)
