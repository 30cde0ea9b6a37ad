"""Compile the project's .po catalogues to .mo with polib (pure Python).

Django's own ``compilemessages`` needs GNU gettext's msgfmt, which a fresh machine may lack;
``make run`` and ``make test`` call this instead. Only files whose .po is newer are rebuilt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files (no gettext tools needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                self.stdout.write(f"compiled {po_path.relative_to(settings.BASE_DIR)}")
