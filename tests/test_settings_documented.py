"""Every setting is in the README's configuration table, and nothing else is."""

from __future__ import annotations

import re

from backend.config import Settings
from tests.support.server import PROJECT_ROOT

TABLE_HEAD = "| name | default | meaning |"


def documented_names() -> set[str]:
    """The `NAMES` in the first column of the README's configuration table."""
    lines = (PROJECT_ROOT / "README.md").read_text().splitlines()
    start = lines.index(TABLE_HEAD) + 2  # past the head and its rule
    names: set[str] = set()
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        first_cell = line.split("|")[1]
        names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_every_setting_is_documented_in_the_readme() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    documented = documented_names()

    missing = sorted(settings - documented)
    unknown = sorted(documented - settings)

    assert not missing, (
        "README.md's configuration table lacks these settings: " + ", ".join(missing)
    )
    assert not unknown, (
        "README.md's configuration table lists names Settings does not have: "
        + ", ".join(unknown)
    )
