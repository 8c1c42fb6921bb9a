"""Shared PDF machinery for the reports: fonts, paragraph styles, tables, a bar chart, the page frame (header
with the school and the date, page numbers) and the download response.

Chinese is drawn with reportlab's built-in CID font STSong-Light, which every PDF reader supplies, so nothing has
to be installed or embedded. Latin text is drawn in Helvetica: each paragraph is split into runs of the two fonts,
so "Résumé" and "脱贫家庭" both come out right in one line.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

CJK = "STSong-Light"
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
CONTENT_TYPE = "application/pdf"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN

HEAD_FILL = colors.HexColor("#e9ecef")
RULE = colors.HexColor("#adb5bd")
MUTED = colors.HexColor("#6c757d")
BAR = colors.HexColor("#0d6efd")

_registered = False


def register_fonts() -> None:
    """Register the CID font once per process (reportlab keeps a global registry)."""
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))
        # One face for every weight: inside a bold heading a CJK run stays in the same font.
        registerFontFamily(CJK, normal=CJK, bold=CJK, italic=CJK, boldItalic=CJK)
        _registered = True


def _is_latin(char: str) -> bool:
    """Whether Helvetica (WinAnsi encoding) can draw the character; everything else goes to the CID font."""
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def runs(text: str) -> list[tuple[bool, str]]:
    """`text` cut into runs of (is_latin, chars)."""
    found: list[tuple[bool, str]] = []
    for char in text:
        latin = _is_latin(char) or char in "\n\t"
        if found and found[-1][0] == latin:
            found[-1] = (latin, found[-1][1] + char)
        else:
            found.append((latin, char))
    return found


def markup(text: Any) -> str:
    """Paragraph markup for plain text: escaped, line breaks kept, CJK runs set in the CID font."""
    register_fonts()
    parts = []
    for latin, chunk in runs("" if text is None else str(text)):
        safe = escape(chunk).replace("\n", "<br/>")
        parts.append(safe if latin else f'<font name="{CJK}">{safe}</font>')
    return "".join(parts)


def _style(name: str, **kw: Any) -> ParagraphStyle:
    base: dict[str, Any] = {"fontName": LATIN, "fontSize": 9.5, "leading": 13, "wordWrap": "CJK"}
    return ParagraphStyle(name, **{**base, **kw})


STYLES: dict[str, ParagraphStyle] = {
    "title": _style("title", fontName=LATIN_BOLD, fontSize=16, leading=21, spaceAfter=2 * mm),
    "subtitle": _style("subtitle", fontSize=10, leading=14, textColor=MUTED, spaceAfter=4 * mm),
    "h2": _style("h2", fontName=LATIN_BOLD, fontSize=12, leading=16, spaceBefore=5 * mm, spaceAfter=2 * mm),
    "h3": _style("h3", fontName=LATIN_BOLD, fontSize=10, leading=14, spaceBefore=3 * mm, spaceAfter=1 * mm),
    "body": _style("body"),
    "small": _style("small", fontSize=8, leading=11, textColor=MUTED),
    "cell": _style("cell", fontSize=8.5, leading=11),
    "cell_right": _style("cell_right", fontSize=8.5, leading=11, alignment=TA_RIGHT),
    "head": _style("head", fontName=LATIN_BOLD, fontSize=8.5, leading=11),
    "head_right": _style("head_right", fontName=LATIN_BOLD, fontSize=8.5, leading=11, alignment=TA_RIGHT),
    "frame": _style("frame", fontSize=7.5, leading=9, textColor=MUTED),
    "frame_right": _style("frame_right", fontSize=7.5, leading=9, textColor=MUTED, alignment=TA_RIGHT),
}


# The same styles breaking lines only between words, for text without Chinese: CJK wrapping may cut a Latin word
# anywhere ("Graduate-s"), while Chinese has no spaces to break at.
LATIN_STYLES: dict[str, ParagraphStyle] = {
    name: ParagraphStyle(f"{name}_latin", parent=style, wordWrap=None) for name, style in STYLES.items()
}


def para(text: Any, style: str = "body") -> Paragraph:
    raw = "" if text is None else str(text)
    latin = all(_is_latin(c) or c in "\n\t" for c in raw)
    return Paragraph(markup(raw), LATIN_STYLES[style] if latin else STYLES[style])


def heading(text: str) -> Paragraph:
    return para(text, "h2")


def note(text: str) -> Paragraph:
    return para(text, "small")


def dash(value: Any) -> str:
    """A value as text; empty values as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def yuan(amount: Decimal | int | None) -> str:
    """¥1500.00: always two decimals, as on the payment lists."""
    return f"¥{Decimal(amount or 0).quantize(Decimal('0.01'))}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value} %"


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    *,
    numeric: Iterable[int] = (),
    footer: Sequence[Any] | None = None,
    empty: str | None = None,
) -> Flowable:
    """A table with a shaded header that repeats on each page; `widths` are fractions of the frame width.

    `numeric`: the columns aligned right. `footer`: a last row set in bold (totals). With no rows, `empty` (or
    "None recorded.") is printed instead of an empty table."""
    right = set(numeric)
    body = [list(r) for r in rows]
    if not body:
        return para(empty or _("None recorded."), "small")

    def cell(value: Any, col: int, head: bool = False) -> Paragraph:
        if isinstance(value, Flowable):
            return value  # type: ignore[return-value]
        name = ("head" if head else "cell") + ("_right" if col in right else "")
        return para(dash(value) if not head else value, name)

    data = [[cell(h, i, head=True) for i, h in enumerate(header)]]
    data += [[cell(v, i) for i, v in enumerate(r)] for r in body]
    if footer is not None:
        data.append([cell(v, i, head=True) for i, v in enumerate(footer)])
    result = Table(data, colWidths=[w * FRAME_WIDTH for w in widths], repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if footer is not None:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), HEAD_FILL))
    result.setStyle(TableStyle(commands))
    return result


def fields(pairs: Iterable[tuple[str, Any]], *, label_width: float = 0.28) -> Flowable:
    """Label/value pairs as a two-column table without a header (a profile, a plan)."""
    data = [[para(label, "head"), para(dash(value), "cell")] for label, value in pairs]
    result = Table(data, colWidths=[label_width * FRAME_WIDTH, (1 - label_width) * FRAME_WIDTH], hAlign="LEFT")
    result.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return result


def subsection(title: str, flowable: Flowable) -> Flowable:
    """A minor heading kept with what follows it."""
    return KeepTogether([para(title, "h3"), flowable])


def section(title: str, *flowables: Flowable) -> list[Flowable]:
    """A heading kept on the same page as the start of what follows it."""
    if not flowables:
        return [heading(title)]
    return [KeepTogether([heading(title), flowables[0]]), *flowables[1:]]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _font_for(text: str) -> str:
    return LATIN if all(_is_latin(c) for c in text) else CJK


def bar_chart(items: Sequence[tuple[str, float | None]], *, caption: str, maximum: float = 100) -> Flowable:
    """Horizontal bars, one per (label, value); a missing value is drawn as zero. Values are printed at the bar
    ends, so the figures read without the axis. Drawn with reportlab graphics: no system packages."""
    register_fonts()
    count = max(len(items), 1)
    bar_area = 12 * count + 10
    height = bar_area + 34
    width = FRAME_WIDTH
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x = 62 * mm
    chart.y = 20
    chart.width = width - chart.x - 18 * mm
    chart.height = bar_area
    chart.data = [[float(v or 0) for _label, v in items] or [0.0]]
    chart.categoryAxis.categoryNames = [_shorten(label, 40) for label, _v in items] or [""]
    chart.categoryAxis.labels.fontName = _font_for("".join(label for label, _v in items))
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -3
    chart.categoryAxis.reverseDirection = True  # the first item at the top, as in the table
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = maximum
    chart.valueAxis.valueStep = maximum / 5
    chart.valueAxis.labels.fontName = LATIN
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = lambda v: f"{v:g}"  # type: ignore[assignment]
    chart.barLabels.fontName = LATIN
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    drawing.add(String(0, height - 10, caption, fontName=_font_for(caption), fontSize=9, fillColor=colors.black))
    return drawing


def _frame_canvas(left: str, right: str, footer: str) -> type[Canvas]:
    """A canvas class that draws the header (`left`, `right`) and the footer with "Page n of m" on every page.

    The page count is known only at the end, so each page's state is kept and the frame drawn on save."""
    page_text = _("Page %(page)d of %(pages)d")

    class FramedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._frame(total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _draw(self, text: str, style: str, y: float) -> None:
            p = para(text, style)
            p.wrapOn(self, FRAME_WIDTH, 20 * mm)
            p.drawOn(self, MARGIN, y)

        def _frame(self, total: int) -> None:
            top = PAGE_HEIGHT - MARGIN + 4 * mm
            self._draw(left, "frame", top)
            self._draw(right, "frame_right", top)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            self.line(MARGIN, top - 1.5 * mm, PAGE_WIDTH - MARGIN, top - 1.5 * mm)
            bottom = MARGIN - 9 * mm
            self._draw(footer, "frame", bottom)
            self._draw(page_text % {"page": self._pageNumber, "pages": total}, "frame_right", bottom)

    return FramedCanvas


def render(story: list[Flowable], *, title: str, header_left: str, header_right: str, footer: str) -> bytes:
    """The PDF of `story` on A4 with the header and footer on every page."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 4 * mm,
        bottomMargin=MARGIN,
        title=title,
        author="Bangfu",
        creator="Bangfu",
    )
    canvasmaker: Callable[..., Canvas] = _frame_canvas(header_left, header_right, footer)
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def spacer(height: float = 3 * mm) -> Flowable:
    return Spacer(1, height)


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """The PDF as a download that no cache keeps (it carries personal data)."""
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    add_never_cache_headers(response)
    return response
