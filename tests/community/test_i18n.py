"""Translations: the Simplified Chinese catalogue is complete, keeps every placeholder, matches
the strings in the code (so a new string without ``make messages`` fails here), and is used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.test import Client
from pytest_django.fixtures import Settings

from tests.factories import make_community

BASE_DIR = Path(django_settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
FIX = "run `make messages`, translate the new entries in locale/zh_Hans/LC_MESSAGES/django.po"

# %(name)s, %(count)d, %s, %d … (but not a literal "%%").
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
CJK = re.compile(r"[\u4e00-\u9fff]")

# What `make messages` scans: the repository minus what the Makefile tells makemessages to skip.
SKIPPED_TOP_LEVEL = {".venv", "bench", "tests", "media", "staticfiles", "node_modules", "artifacts"}
SCANNED_SUFFIXES = {".py", ".html", ".txt", ".po"}
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def load_catalogue(path: Path = CATALOGUE) -> polib.POFile:
    assert path.exists(), f"{path.relative_to(BASE_DIR)} is missing: {FIX}"
    return polib.pofile(str(path))


def msgids(catalogue: polib.POFile) -> set[tuple[str | None, str, str]]:
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in catalogue if not e.obsolete}


# --- (a) complete, not fuzzy, placeholders kept -----------------------------------------------


def test_catalogue_header_is_simplified_chinese() -> None:
    catalogue = load_catalogue()
    assert not catalogue.metadata_is_fuzzy, "the header is still marked fuzzy"
    assert catalogue.metadata["Language"] == "zh_Hans"
    assert "charset=UTF-8" in catalogue.metadata["Content-Type"]
    assert catalogue.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"


def test_every_entry_is_translated_and_none_is_fuzzy() -> None:
    catalogue = load_catalogue()
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated ({FIX}): {untranslated}"
    assert not fuzzy, f"fuzzy (check the translation, then drop the flag): {fuzzy}"
    # Chinese has one plural form: exactly msgstr[0].
    bad_plurals = [e.msgid for e in catalogue if e.msgid_plural and sorted(e.msgstr_plural) != [0]]
    assert not bad_plurals, f"plural entries need exactly msgstr[0]: {bad_plurals}"
    not_chinese = [
        e.msgid
        for e in catalogue.translated_entries()
        if not CJK.search(e.msgstr or e.msgstr_plural.get(0, ""))
    ]
    assert not not_chinese, f"translations without any Chinese text: {not_chinese}"


def test_translations_keep_the_placeholders() -> None:
    mismatched = []
    for entry in load_catalogue().translated_entries():
        if entry.msgid_plural:
            # One form serves every count, so it takes the plural's placeholders (the count
            # included); the singular's must all be among them.
            expected = placeholders(entry.msgid_plural)
            missing_from_plural = set(placeholders(entry.msgid)) - set(expected)
            got = placeholders(entry.msgstr_plural.get(0, ""))
            if missing_from_plural or got != expected:
                mismatched.append((entry.msgid, expected, got))
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            mismatched.append((entry.msgid, placeholders(entry.msgid), placeholders(entry.msgstr)))
    assert not mismatched, f"placeholders differ (msgid, expected, translated): {mismatched}"


# --- (b) the catalogue matches the strings in the code ----------------------------------------


def _copy_source_tree(destination: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n.startswith(".") or n == "__pycache__"}
        if Path(directory) == BASE_DIR:
            skipped |= SKIPPED_TOP_LEVEL
        return skipped | {
            n
            for n in names
            if Path(directory, n).is_file() and Path(n).suffix not in SCANNED_SUFFIXES
        }

    shutil.copytree(BASE_DIR, destination, ignore=ignore, dirs_exist_ok=True)


def test_catalogue_is_current(tmp_path: Path) -> None:
    missing_tools = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing_tools:
        pytest.skip(
            f"GNU gettext ({', '.join(missing_tools)}) is not on PATH, so makemessages cannot "
            "run; install it (Debian: apt-get install gettext) to check the catalogue is current"
        )
    _copy_source_tree(tmp_path)
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")
    }
    env["DJANGO_DEBUG"] = "true"
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--no-location",
            "--ignore=.venv",
            "--ignore=bench",
            "--ignore=tests",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"

    in_code = msgids(load_catalogue(tmp_path / CATALOGUE.relative_to(BASE_DIR)))
    committed = msgids(load_catalogue())
    new = sorted(msgid for _, msgid, _ in in_code - committed)
    gone = sorted(msgid for _, msgid, _ in committed - in_code)
    assert not new, f"strings in the code missing from the catalogue ({FIX}): {new}"
    assert not gone, f"strings in the catalogue no longer in the code (run `make messages`): {gone}"


# --- (c) pages are rendered in the visitor's language -----------------------------------------


@pytest.fixture
def compiled_catalogue(tmp_path: Path, settings: Settings) -> Path:
    """The committed catalogue compiled into a private LOCALE_PATHS (the .mo files in the tree
    are build output and may be stale); changing the setting resets Django's caches."""
    locale = tmp_path / "locale"
    target = locale / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    load_catalogue().save_as_mofile(str(target / "django.mo"))
    settings.LOCALE_PATHS = [locale]
    return locale


@pytest.mark.django_db
def test_landing_page_in_chinese_and_in_english(compiled_catalogue: Path) -> None:
    community = make_community(slug="i18n-circle", name="I18n circle")
    catalogue = load_catalogue()
    how_it_works = catalogue.find("How it works")
    assert how_it_works is not None

    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(f"/c/{community.slug}/")
    assert zh.status_code == 200
    page = zh.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "入会费" in page  # "Entrance fee"
    assert how_it_works.msgstr in page
    assert "How it works" not in page
    assert "Entrance fee" not in page

    en = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/c/{community.slug}/")
    assert en.status_code == 200
    page = en.content.decode()
    assert '<html lang="en">' in page
    assert "Entrance fee" in page
    assert "How it works" in page
    assert "入会费" not in page
