"""Compile every locale/**/*.po into its .mo, like `manage.py compilemessages`.

`compilemessages` needs GNU gettext's `msgfmt`; a fresh machine with only Python and make
may not have it, and `make run` / `make test` must still work there. The Makefile uses
`compilemessages` when `msgfmt` exists (it also checks format strings) and this otherwise.
Fuzzy and obsolete entries are left out, as msgfmt does.

Usage: python scripts/compile_messages.py [LOCALE_DIR ...]   (default: ./locale and apps')
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "node_modules", ".git", "staticfiles", "tmp"}


def po_files(dirs: list[Path]) -> list[Path]:
    found = []
    for directory in dirs:
        for path in sorted(directory.rglob("*.po")):
            parts = path.relative_to(directory).parts
            if path.parent.name == "LC_MESSAGES" and SKIP.isdisjoint(parts):
                found.append(path)
    return found


def compile_po(path: Path) -> Path:
    mo = path.with_suffix(".mo")
    # Like msgfmt: nothing to do when the .mo is already newer than its source.
    if mo.exists() and mo.stat().st_mtime >= path.stat().st_mtime:
        return mo
    polib.pofile(str(path)).save_as_mofile(str(mo))
    return mo


def main(argv: list[str]) -> int:
    dirs = [Path(a) for a in argv] or [ROOT]
    for path in po_files(dirs):
        compile_po(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
