"""Chinese is the default UI language (SPEC §9): every message must have a translation.

The first test reads the committed catalogue; the second regenerates it from the source in
a scratch copy of the project, so a string added without a translation fails here rather
than showing up in English on a Chinese screen.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUE = Path("zh_Hans") / "LC_MESSAGES" / "django.po"
MAKEMESSAGES = [
    "manage.py",
    "makemessages",
    "-l",
    "zh_Hans",
    "--ignore=.venv",
    "--ignore=benchmarks",
]
# What a scratch copy does not need: makemessages only reads .py, .html and .txt files.
NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "node_modules", "staticfiles", "vendor", "*.sqlite3*", "*.mo", "__pycache__"
)


@dataclass
class Entry:
    msgid: str = ""
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False
    obsolete: bool = False


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file; enough of the format for what makemessages writes."""
    entries: list[Entry] = []
    for block in text.strip().split("\n\n"):
        entry, current = Entry(), None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.fuzzy = "fuzzy" in line
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                if current == "msgid":
                    entry.msgid += ast.literal_eval(line)
                elif current == "msgstr":
                    entry.msgstrs[-1] += ast.literal_eval(line)
            else:
                keyword, _, value = line.partition(" ")
                if keyword == "msgid":
                    current, entry.msgid = "msgid", ast.literal_eval(value)
                elif keyword.startswith("msgstr"):
                    current = "msgstr"
                    entry.msgstrs.append(ast.literal_eval(value))
                else:  # msgctxt, msgid_plural: not part of the check
                    current = None
        entries.append(entry)
    return entries


def untranslated(po_file: Path) -> list[str]:
    entries = parse_po(po_file.read_text(encoding="utf-8"))
    return [
        e.msgid for e in entries if e.msgid and not e.obsolete and (e.fuzzy or not all(e.msgstrs))
    ]


def test_the_po_parser_finds_empty_and_fuzzy_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "Done"\nmsgstr "完成"\n\n'
        'msgid "Empty"\nmsgstr ""\n\n'
        '#, fuzzy, python-format\nmsgid "Guess %(n)s"\nmsgstr "猜 %(n)s"\n\n'
        'msgid ""\n"Long "\n"text"\nmsgstr ""\n"长"\n"文本"\n\n'
        '#~ msgid "Gone"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    assert untranslated(po) == ["Empty", "Guess %(n)s"]


def test_every_message_of_the_catalogue_is_translated():
    po_file = Path(settings.LOCALE_PATHS[0]) / CATALOGUE
    assert po_file.exists(), f"{po_file} is missing"
    missing = untranslated(po_file)
    assert not missing, f"untranslated or fuzzy in {po_file}: {missing}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_the_catalogue_covers_every_string_in_the_source(tmp_path):
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "project"
    shutil.copytree(root, copy, ignore=NOT_COPIED)
    result = subprocess.run(
        [sys.executable, *MAKEMESSAGES], cwd=copy, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    missing = untranslated(copy / "locale" / CATALOGUE)
    assert not missing, (
        "strings without a Chinese translation; run `.venv/bin/python "
        + " ".join(MAKEMESSAGES)
        + f"` and translate them in locale/{CATALOGUE}: {missing}"
    )
