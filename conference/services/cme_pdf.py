"""Certificate and transcript PDFs (reportlab, embedded TrueType fonts, vector QR from segno):
drawing only — what a certificate prints comes from `cme.printed.certificate_data`.

Text is drawn in runs: each character takes the first font of a fallback chain that has a glyph
for it (DejaVu for Latin, Greek, Cyrillic, Arabic, Hebrew; WenQuanYi Micro Hei for CJK when the
Debian package `fonts-wqy-microhei` is installed). Right-to-left text is shaped
(arabic-reshaper) and put in visual order (python-bidi) line by line, after wrapping.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import BinaryIO, Protocol

import arabic_reshaper  # type: ignore[import-untyped]  # ships no stubs or py.typed
import segno
from bidi import get_display  # type: ignore[import-untyped]  # ships no stubs or py.typed
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from conference.services import statements
from conference.services.statements import CREDIT_PHRASE, phrase_mask

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/wqy"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
)
FONT_FILES = {
    "Serif": ("DejaVuSerif.ttf", 0),
    "Serif-Bold": ("DejaVuSerif-Bold.ttf", 0),
    "Serif-Italic": ("DejaVuSerif-Italic.ttf", 0),
    "Serif-BoldItalic": ("DejaVuSerif-BoldItalic.ttf", 0),
    "Sans": ("DejaVuSans.ttf", 0),
    "Sans-Bold": ("DejaVuSans-Bold.ttf", 0),
    "Sans-Italic": ("DejaVuSans-Oblique.ttf", 0),
    "Sans-BoldItalic": ("DejaVuSans-BoldOblique.ttf", 0),
    "CJK": ("wqy-microhei.ttc", 0),
}
REQUIRED_FONTS = (
    "Serif",
    "Serif-Bold",
    "Serif-Italic",
    "Serif-BoldItalic",
    "Sans",
    "Sans-Bold",
    "Sans-Italic",
    "Sans-BoldItalic",
)
ITALIC_OF = {
    "Serif": "Serif-Italic",
    "Serif-Bold": "Serif-BoldItalic",
    "Sans": "Sans-Italic",
    "Sans-Bold": "Sans-BoldItalic",
}

NAVY = HexColor("#1b2a4a")
GOLD = HexColor("#b08d3c")
INK = HexColor("#222222")
MUTED = HexColor("#5a6170")
PAPER = HexColor("#fffdf7")

PAGE = landscape(letter)
# Ligatures such as U+FDF2 (Allah) are not in DejaVu: keep the shaped letters instead.
_RESHAPER = arabic_reshaper.ArabicReshaper(configuration={"support_ligatures": False})


class FontMissing(RuntimeError):
    pass


# Fonts and text runs ------------------------------------------------------------------------


def _find_font(filename: str) -> Path | None:
    return next((d / filename for d in FONT_DIRS if (d / filename).is_file()), None)


@cache
def fonts() -> dict[str, TTFont]:
    """Register the fonts once per process; the CJK fallback is optional."""
    registered = {}
    for key, (filename, index) in FONT_FILES.items():
        path = _find_font(filename)
        if path is None:
            if key in REQUIRED_FONTS:
                raise FontMissing(
                    f"{filename} not found: install the Debian fonts-dejavu-core and "
                    "fonts-dejavu-extra"
                )
            continue
        font = TTFont(f"MV-{key}", str(path), subfontIndex=index)
        pdfmetrics.registerFont(font)
        registered[key] = font
    return registered


@cache
def chain(style: str) -> tuple[TTFont, ...]:
    """The style's font, then the same style of DejaVu Sans, then the plain Sans of its
    weight (glyphs missing from the italics), then CJK."""
    available = fonts()
    sans = style.replace("Serif", "Sans")
    family = "Sans-Bold" if "Bold" in style else "Sans"
    order = [style, sans, family, "CJK"]
    return tuple(available[key] for key in dict.fromkeys(order) if key in available)


@cache
def _font_name(char: str, style: str) -> str:
    """The first font of the style's chain with a glyph for `char`."""
    fallbacks = chain(style)
    code = ord(char)
    for font in fallbacks:
        if code in font.face.charToGlyph:
            return font.fontName
    return fallbacks[0].fontName


def runs(text: str, style: str) -> list[tuple[str, str]]:
    """(font name, text) pieces, each drawable in one font."""
    pieces: list[tuple[str, str]] = []
    for char in text:
        name = None if char.isspace() else _font_name(char, style)
        if pieces and (name is None or pieces[-1][0] == name):
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + char)
        else:
            pieces.append((name or chain(style)[0].fontName, char))
    return pieces


def text_width(text: str, style: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(t, f, size) for f, t in runs(text, style))


def is_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def visual(text: str) -> str:
    """Right-to-left text shaped and reordered for drawing left to right."""
    return get_display(_RESHAPER.reshape(text)) if is_rtl(text) else text


def draw_text(
    canvas: Canvas, x: float, y: float, text: str, *, style: str, size: float, align: str = "left"
) -> None:
    shown = visual(text)
    width = text_width(shown, style, size)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    # One text object: text extraction reads the font changes inside it as one string.
    text_object = canvas.beginText(x, y)
    for font_name, piece in runs(shown, style):
        text_object.setFont(font_name, size)
        text_object.textOut(piece)
    canvas.drawText(text_object)


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Words (with their trailing space); CJK characters break anywhere."""
    tokens: list[str] = []
    for word in text.split(" "):
        if any(_is_wide(c) for c in word):
            tokens.extend(word)
            tokens[-1] += " "
        else:
            tokens.append(word + " ")
    return [t for t in tokens if t.strip()]


def wrap(text: str, *, style: str, size: float, width: float) -> list[str]:
    """Greedy wrap to `width`; a word longer than a line is broken by characters.

    Widths add up (no kerning), so each word is measured once."""
    lines: list[str] = []
    line, line_width = "", 0.0
    space = text_width(" ", style, size)
    for token in _tokens(" ".join(text.split())):
        word, spaced = token.rstrip(), token.endswith(" ")
        word_width = text_width(word, style, size)
        if line and line_width + word_width > width:
            lines.append(line.rstrip())
            line, line_width = "", 0.0
        while word_width > width and len(word) > 1:
            cut = _longest_prefix(word, style, size, width)
            lines.append(word[:cut])
            word = word[cut:]
            word_width = text_width(word, style, size)
        line += word + (" " if spaced else "")
        line_width += word_width + (space if spaced else 0.0)
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _longest_prefix(text: str, style: str, size: float, width: float) -> int:
    total, cut = 0.0, 0
    for char in text:
        total += text_width(char, style, size)
        if total > width:
            break
        cut += 1
    return max(cut, 1)


def draw_paragraph(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    *,
    style: str,
    size: float,
    width: float,
    leading: float | None = None,
    align: str = "center",
) -> float:
    """Draw wrapped text from baseline `y` down; return the y below the last line.

    Left-to-right text with the AMA credit phrase is drawn by `draw_rich_paragraph` (the
    phrase in the italic of `style`, never broken across lines)."""
    leading = leading or size * 1.3
    if not is_rtl(text) and CREDIT_PHRASE.search(text):
        return draw_rich_paragraph(
            canvas, x, y, text, style=style, size=size, width=width, leading=leading, align=align
        )
    for line in wrap(text, style=style, size=size, width=width):
        draw_text(canvas, x, y, line, style=style, size=size, align=align)
        y -= leading
    return y


Word = tuple[list[tuple[str, str]], bool]  # (text, style) parts, followed by a space


def rich_words(text: str, style: str) -> list[Word]:
    """Words of `text` with the AMA phrase as one word in italics (its spaces are not break
    points); CJK characters are words of their own, as in `wrap`."""
    text = " ".join(text.split())
    italic = ITALIC_OF.get(style, style)
    words: list[Word] = []
    parts: list[tuple[str, str]] = []
    for char, inside in zip(text, phrase_mask(text), strict=True):
        if char == " " and not inside:
            if parts:
                words.append((parts, True))
                parts = []
            elif words:
                words[-1] = (words[-1][0], True)
            continue
        piece_style = italic if inside else style
        if not inside and _is_wide(char):
            if parts:
                words.append((parts, False))
                parts = []
            words.append(([(char, piece_style)], False))
        elif parts and parts[-1][1] == piece_style:
            parts[-1] = (parts[-1][0] + char, piece_style)
        else:
            parts.append((char, piece_style))
    if parts:
        words.append((parts, False))
    return words


def _word_width(word: Word, size: float) -> float:
    return sum(text_width(piece, piece_style, size) for piece, piece_style in word[0])


def wrap_rich(text: str, *, style: str, size: float, width: float) -> list[list[Word]]:
    """Greedy wrap of `rich_words`; a word wider than the line stays whole on its own line."""
    lines: list[list[Word]] = []
    line: list[Word] = []
    line_width = 0.0
    space = text_width(" ", style, size)
    for word in rich_words(text, style):
        word_width = _word_width(word, size)
        gap = space if line and line[-1][1] else 0.0
        if line and line_width + gap + word_width > width:
            lines.append(line)
            line, line_width, gap = [], 0.0, 0.0
        line.append(word)
        line_width += gap + word_width
    if line:
        lines.append(line)
    return lines


def rich_line_text(line: list[Word]) -> str:
    return "".join(
        "".join(piece for piece, _ in parts) + (" " if spaced else "") for parts, spaced in line
    ).rstrip()


def draw_rich_paragraph(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    *,
    style: str,
    size: float,
    width: float,
    leading: float,
    align: str = "center",
) -> float:
    space = text_width(" ", style, size)
    for line in wrap_rich(text, style=style, size=size, width=width):
        widths = [_word_width(word, size) for word in line]
        total = sum(widths) + space * sum(1 for word in line[:-1] if word[1])
        left = x - total / 2 if align == "center" else (x - total if align == "right" else x)
        # One text object per line: extractors read a font change inside it as no gap.
        text_object = canvas.beginText(left, y)
        for index, (parts, spaced) in enumerate(line):
            for piece, piece_style in parts:
                for font_name, run in runs(piece, piece_style):
                    text_object.setFont(font_name, size)
                    text_object.textOut(run)
            if spaced and index < len(line) - 1:
                text_object.setFont(chain(style)[0].fontName, size)
                text_object.textOut(" ")
        canvas.drawText(text_object)
        y -= leading
    return y


def fit_paragraph(
    text: str, *, style: str, sizes: Sequence[float], width: float, max_lines: int
) -> float:
    """The largest size at which `text` fits in `max_lines` lines (else the smallest)."""
    for size in sizes:
        if len(wrap(text, style=style, size=size, width=width)) <= max_lines:
            return size
    return sizes[-1]


def draw_qr(canvas: Canvas, content: str, *, x: float, y: float, size: float) -> None:
    """A QR code as one vector path (runs of dark modules as rectangles), with its quiet zone
    inside `size`."""
    qr = segno.make(content, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    quiet = 2
    module = size / (len(matrix) + 2 * quiet)
    canvas.setFillColor(Color(1, 1, 1))
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (quiet + row_index + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            path.rect(x + (quiet + start) * module, top, (column - start) * module, module)
    canvas.setFillColor(Color(0, 0, 0))
    canvas.drawPath(path, stroke=0, fill=1)


# The certificate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on a certificate (plain values, so rendering needs no database)."""

    learner_name: str
    degree: str
    activity_title: str
    start_date: date
    end_date: date
    provider: str
    credit_type_name: str
    credit_code: str
    credit: Decimal
    designated_max: Decimal
    designation_statement: str
    accreditation_statement: str
    participation: bool
    ama_max: Decimal | None
    credited_minutes: int
    signatory_name: str
    signatory_title: str
    issued_on: date
    first_issued_on: date
    version: int
    code: str
    verify_url: str
    # Enduring material (a recording released for credit): printed instead of "Live virtual
    # activity", with the release and expiry dates in start_date and end_date.
    enduring: bool = False


def date_range(start: date, end: date) -> str:
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


def day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _frame(canvas: Canvas) -> None:
    width, height = PAGE
    canvas.setFillColor(PAPER)
    canvas.rect(0, 0, width, height, stroke=0, fill=1)
    canvas.setStrokeColor(NAVY)
    canvas.setLineWidth(3)
    canvas.rect(24, 24, width - 48, height - 48, stroke=1, fill=0)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1)
    canvas.rect(32, 32, width - 64, height - 64, stroke=1, fill=0)
    for cx, cy in ((32, 32), (width - 32, 32), (32, height - 32), (width - 32, height - 32)):
        canvas.setFillColor(GOLD)
        canvas.circle(cx, cy, 4, stroke=0, fill=1)


def _seal(canvas: Canvas, x: float, y: float, credit: str, unit: str) -> None:
    canvas.setFillColor(NAVY)
    canvas.circle(x, y, 34, stroke=0, fill=1)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1.5)
    canvas.circle(x, y, 30, stroke=1, fill=0)
    canvas.setFillColor(Color(1, 1, 1))
    draw_text(canvas, x, y + 2, credit, style="Serif-Bold", size=15, align="center")
    draw_text(canvas, x, y - 12, unit, style="Sans-Bold", size=6.5, align="center")


def render_certificate(data: CertificateData, stream: BinaryIO) -> None:
    """Write a one-page certificate PDF to `stream`."""
    canvas = Canvas(stream, pagesize=PAGE, pageCompression=1)
    canvas.setTitle(f"Certificate {data.code} — {data.activity_title}")
    canvas.setAuthor(data.provider)
    _frame(canvas)
    width, height = PAGE
    center, text_width_max = width / 2, width - 180
    canvas.setFillColor(NAVY)
    draw_text(
        canvas,
        center,
        height - 78,
        data.provider.upper(),
        style="Sans-Bold",
        size=11,
        align="center",
    )
    heading = "Certificate of Participation" if data.participation else "Certificate of Credit"
    draw_text(canvas, center, height - 122, heading, style="Serif-Bold", size=30, align="center")
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1)
    canvas.line(center - 120, height - 136, center + 120, height - 136)
    canvas.setFillColor(MUTED)
    draw_text(
        canvas, center, height - 160, "This certifies that", style="Serif", size=12, align="center"
    )
    name = f"{data.learner_name}, {data.degree}" if data.degree else data.learner_name
    name_size = fit_paragraph(
        name, style="Serif-Bold", sizes=(26, 22, 18, 15), width=text_width_max, max_lines=1
    )
    canvas.setFillColor(INK)
    y = draw_paragraph(
        canvas, center, height - 194, name, style="Serif-Bold", size=name_size, width=text_width_max
    )
    canvas.setFillColor(MUTED)
    y = draw_paragraph(
        canvas,
        center,
        y - 4,
        "completed the enduring material"
        if data.enduring
        else "participated in the live virtual activity",
        style="Serif",
        size=12,
        width=text_width_max,
    )
    title_size = fit_paragraph(
        data.activity_title,
        style="Serif-Bold",
        sizes=(17, 15, 13, 11),
        width=text_width_max,
        max_lines=2,
    )
    canvas.setFillColor(NAVY)
    y = draw_paragraph(
        canvas,
        center,
        y - 6,
        data.activity_title,
        style="Serif-Bold",
        size=title_size,
        width=text_width_max,
    )
    canvas.setFillColor(MUTED)
    when = (
        f"Enduring material · released {day(data.start_date)} · expires {day(data.end_date)}"
        if data.enduring
        else f"{date_range(data.start_date, data.end_date)} · Live virtual activity"
    )
    y = draw_paragraph(canvas, center, y - 4, when, style="Sans", size=10.5, width=text_width_max)
    canvas.setFillColor(INK)
    y = draw_paragraph(
        canvas,
        center,
        y - 8,
        _award_line(data),
        style="Serif-Bold",
        size=13,
        width=text_width_max,
    )
    canvas.setFillColor(INK)
    y = draw_paragraph(
        canvas,
        center,
        y - 12,
        data.designation_statement,
        style="Serif",
        size=10.5,
        width=text_width_max - 40,
    )
    if data.accreditation_statement:
        canvas.setFillColor(MUTED)
        draw_paragraph(
            canvas,
            center,
            y - 8,
            data.accreditation_statement,
            style="Serif",
            size=9.5,
            width=text_width_max - 40,
        )
    _footer(canvas, data)
    canvas.showPage()
    canvas.save()


def _award_line(data: CertificateData) -> str:
    credit = format(data.credit, ".2f")
    if data.participation and data.enduring:
        return f"Enduring material completed, post-test passed ({credit} hours of participation)"
    if data.participation:
        hours, minutes = divmod(data.credited_minutes, 60)
        spent = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
        return f"Credit-eligible attendance: {spent} ({credit} hours of participation)"
    claimed = statements.credit_amount(data.credit_code, data.credit, data.credit_type_name)
    return f"{claimed} claimed (maximum designated: {data.designated_max:.2f})"


def _footer(canvas: Canvas, data: CertificateData) -> None:
    width, _height = PAGE
    base = 70
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.6)
    canvas.line(80, base + 40, 300, base + 40)
    canvas.setFillColor(INK)
    draw_text(canvas, 80, base + 46, data.signatory_name or "", style="Serif", size=11)
    canvas.setFillColor(MUTED)
    signer = data.signatory_title or "Director of Continuing Medical Education"
    draw_text(canvas, 80, base + 28, f"{signer}, {data.provider}"[:90], style="Sans", size=8)
    issued = f"Issued {day(data.issued_on)}"
    if data.version > 1:
        issued += f" (version {data.version}; first issued {day(data.first_issued_on)})"
    draw_text(canvas, 80, base + 14, issued, style="Sans", size=8)
    unit = "HOURS" if data.participation else "CREDITS"
    _seal(canvas, width / 2, base + 30, format(data.credit, ".2f"), unit)
    qr_size = 84
    qr_x = width - 80 - qr_size
    draw_qr(canvas, data.verify_url, x=qr_x, y=base - 10, size=qr_size)
    canvas.setFillColor(INK)
    draw_text(
        canvas, qr_x - 10, base + 50, "Verification code", style="Sans", size=8, align="right"
    )
    draw_text(canvas, qr_x - 10, base + 34, data.code, style="Sans-Bold", size=13, align="right")
    canvas.setFillColor(MUTED)
    draw_text(canvas, qr_x - 10, base + 20, data.verify_url, style="Sans", size=7, align="right")


# The transcript ------------------------------------------------------------------------------


class TranscriptLine(Protocol):
    """One row of a transcript (`cme.transcript.TranscriptRow`): what the PDF prints of it."""

    @property
    def event_title(self) -> str: ...
    @property
    def start_date(self) -> str: ...
    @property
    def end_date(self) -> str: ...
    @property
    def credit_type(self) -> str: ...
    @property
    def credit(self) -> Decimal: ...
    @property
    def activity_format(self) -> str: ...


def render_transcript(
    name: str, rows: Sequence[TranscriptLine], stream: BinaryIO, *, generated: datetime
) -> None:
    """A learner's credits across events as a table (one or more pages)."""
    canvas = Canvas(stream, pagesize=letter, pageCompression=1)
    canvas.setTitle(f"CME transcript — {name}")
    _width, height = letter
    y = _transcript_header(canvas, name, generated, height)
    totals: dict[str, Decimal] = {}
    for row in rows:
        lines = wrap(_transcript_title(row), style="Sans", size=9, width=220)
        needed = 14 * max(len(lines), 1) + 6
        if y - needed < 60:
            canvas.showPage()
            y = _transcript_header(canvas, name, generated, height)
        _transcript_row(canvas, row, lines, y)
        y -= needed
        totals[row.credit_type] = totals.get(row.credit_type, Decimal(0)) + row.credit
    y -= 10
    canvas.setFillColor(NAVY)
    for credit_type, total in sorted(totals.items()):
        y = draw_paragraph(
            canvas,
            50,
            y,
            f"Total {credit_type}: {total:.2f}",
            style="Sans-Bold",
            size=10,
            width=500,
            leading=14,
            align="left",
        )
    if not rows:
        draw_text(canvas, 50, y, "No credit claimed yet.", style="Sans", size=10)
    canvas.showPage()
    canvas.save()


def _transcript_title(row: TranscriptLine) -> str:
    if getattr(row, "activity_format", "Live") == "Live":
        return row.event_title
    return f"{row.event_title} — {row.activity_format.lower()} (until {row.end_date})"


def _transcript_header(canvas: Canvas, name: str, generated: datetime, height: float) -> float:
    canvas.setFillColor(NAVY)
    draw_text(
        canvas, 50, height - 60, "Continuing education transcript", style="Serif-Bold", size=18
    )
    canvas.setFillColor(INK)
    draw_text(canvas, 50, height - 82, name, style="Serif", size=12)
    canvas.setFillColor(MUTED)
    draw_text(
        canvas, 50, height - 98, f"Generated {generated:%d %B %Y %H:%M} UTC", style="Sans", size=8
    )
    y = height - 126
    canvas.setFillColor(NAVY)
    for x, label in ((50, "Activity"), (280, "Dates"), (370, "Credit type"), (520, "Credits")):
        draw_text(canvas, x, y, label, style="Sans-Bold", size=9)
    canvas.setStrokeColor(GOLD)
    canvas.line(50, y - 5, width_of_letter() - 50, y - 5)
    return y - 20


def width_of_letter() -> float:
    return letter[0]


def _transcript_row(canvas: Canvas, row: TranscriptLine, lines: list[str], y: float) -> None:
    canvas.setFillColor(INK)
    for index, line in enumerate(lines):
        draw_text(canvas, 50, y - 14 * index, line, style="Sans", size=9)
    draw_text(canvas, 280, y, row.start_date, style="Sans", size=9)
    draw_paragraph(
        canvas, 370, y, row.credit_type, style="Sans", size=9, width=150, leading=14, align="left"
    )
    draw_text(canvas, 560, y, f"{row.credit:.2f}", style="Sans", size=9, align="right")
