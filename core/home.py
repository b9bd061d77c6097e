"""Where a Banso project lives, found the same way by every `banso` command and by the server.

The project home is the folder holding `knowledge/` and `var/` (and, optionally, `banso.toml`).
It is `BANSO_HOME` when set, else the nearest folder at or above the current one that has a
`banso.toml` file or a `knowledge/` folder: `cd csv && banso import …` writes to the project's
database, not to a new `csv/var/`. Outside any project a command stops with `NO_HOME`
instead of quietly answering from an empty database.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_NAME = "banso.toml"
KNOWLEDGE_NAME = "knowledge"


def is_home(folder: Path) -> bool:
    return (folder / CONFIG_NAME).is_file() or (folder / KNOWLEDGE_NAME).is_dir()


def find_home(start: Path) -> Path | None:
    """The nearest project folder at or above `start`, or None outside any project."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if is_home(folder):
            return folder
    return None


def no_home_message(start: Path) -> str:
    return (f"no Banso project at {start} or above it (a folder with {CONFIG_NAME} or "
            f"{KNOWLEDGE_NAME}/): run banso inside the project folder, or set "
            "BANSO_HOME=/path/to/project")
