"""Japanese ships complete: every message translated, and the compiled catalog is current."""

import ast
import gettext
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[1] / "tokui" / "locale" / "ja" / "LC_MESSAGES"


def parse_po(path: Path) -> list[dict[str, object]]:
    """A small .po reader: entries with msgid, msgid_plural, msgstr(s) and flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, key = {}, ""
        elif line.startswith("#,"):
            entry["flags"] = line[2:].strip()
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] = str(entry[key]) + ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


@pytest.fixture(scope="module")
def entries():
    return parse_po(LOCALE / "django.po")


def test_every_message_is_translated(entries):
    missing = [
        e["msgid"]
        for e in entries
        if e.get("msgid") and not (e.get("msgstr") or e.get("msgstr[0]"))
    ]
    assert missing == []
    assert [e["msgid"] for e in entries if "fuzzy" in str(e.get("flags", ""))] == []


def test_placeholders_survive_translation(entries):
    import re

    pattern = re.compile(r"%\(\w+\)[sd]")
    for e in entries:
        translated = str(e.get("msgstr") or e.get("msgstr[0]") or "")
        if e.get("msgid"):
            assert sorted(pattern.findall(str(e["msgid"]))) == sorted(
                pattern.findall(translated)
            ), e


def test_compiled_catalog_matches_the_po_file(entries):
    with (LOCALE / "django.mo").open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    for e in entries:
        msgid = str(e.get("msgid", ""))
        if not msgid or "msgid_plural" in e:
            continue
        context = e.get("msgctxt")
        got = catalog.pgettext(str(context), msgid) if context else catalog.gettext(msgid)
        assert got == e["msgstr"], f"django.mo is stale for {msgid!r}: run `make messages`"
