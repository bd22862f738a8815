"""A weekly report as a PDF: its page's sections drawn by WeasyPrint (through Pango).

Chinese needs a CJK font that fontconfig knows (Debian: `fonts-noto-cjk`). Without one the
PDF is still drawn — Chinese characters show as empty boxes — and it says so on its first
page, as the report's page does. Nothing is fetched while drawing: the style sheet is read
from the app's static folder and every other address is refused.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation

from lodestar.insights.models import WeeklyReport
from lodestar.insights.weekly_view import report_view

__all__ = [
    "PDF_KEPT_SECONDS",
    "cjk_font_available",
    "weekly_report_filename",
    "weekly_report_pdf",
]

# Where Debian's fonts-noto-cjk (and the usual alternatives) put their files, when fontconfig's
# own tool is missing.
_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK*",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK*",
    "/usr/share/fonts/truetype/wqy/*",
    "/usr/share/fonts/**/*CJK*",
)


@functools.cache
def cjk_font_available() -> bool:
    """Whether a font with Chinese glyphs is installed (asked of fontconfig once per process)."""
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        try:
            found = subprocess.run(  # noqa: S603 - a fixed command, no user input
                [fc_list, ":lang=zh-cn", "family"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            found = None
        if found is not None and found.returncode == 0:
            return bool(found.stdout.strip())
    return any(glob.glob(pattern, recursive=True) for pattern in _FONT_FILES)


def _refuse(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the weekly report PDF fetches nothing ({url})")


def _static_text(name: str) -> str:
    path = finders.find(name)
    return Path(str(path)).read_text(encoding="utf-8") if path else ""


def _style_sheet() -> str:
    """The PDF's style: its page rules, the report page's sheet, then the PDF's overrides of
    it — handed to WeasyPrint as a sheet, as the pages allow no inline style."""
    page, overrides = _static_text("insights/weekly_pdf.css").split(
        "/* --- after weekly.css --- */"
    )
    return page + _static_text("insights/weekly.css") + overrides


def weekly_report_filename(report: WeeklyReport) -> str:
    return f"weekly-report-{report.week}-team-{report.team_id}.pdf"


# Drawing takes seconds; the same report in the same words is drawn once and kept a day in each
# process's memory, keyed by the page it draws (a report made again, another language, another
# template are other pages).
PDF_KEPT_SECONDS = 24 * 3600


def weekly_report_pdf(report: WeeklyReport, *, language: str | None = None) -> bytes:
    """The report as PDF bytes, worded in `language` (default: the active one), its times in
    the organization's zone."""
    html = _page(report, language or translation.get_language() or "zh-hans")
    key = "weekly-report-pdf:" + hashlib.sha256(html.encode()).hexdigest()
    kept = cache.get(key)
    if isinstance(kept, bytes):
        return kept
    # A heavy import the pages never pay for: only the PDF needs it (it ships no type hints).
    import weasyprint  # type: ignore[import-untyped]

    sheet = weasyprint.CSS(string=_style_sheet(), url_fetcher=_refuse)
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=_refuse).write_pdf(stylesheets=[sheet])
    cache.set(key, pdf, PDF_KEPT_SECONDS)
    return pdf


def _page(report: WeeklyReport, language: str) -> str:
    with (
        translation.override(language),
        timezone.override(report.organization.tz),
    ):
        return render_to_string(
            "insights/weekly_report_pdf.html",
            {
                "view": report_view(report),
                "cjk_missing": not cjk_font_available(),
            },
        )
