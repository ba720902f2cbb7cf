"""Barcodes for printed documents: Code128 as inline SVG (python-barcode), ready to drop into a page."""

from __future__ import annotations

import re

from barcode import Code128
from barcode.writer import SVGWriter
from markupsafe import Markup

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def code128_svg(value: str, *, module_height_mm: float = 12.0, module_width_mm: float = 0.3) -> Markup:
    """An ``<svg>`` element drawing ``value`` as Code128 (no XML prologue, so it can sit inline in HTML)."""
    writer_options = {
        "module_height": module_height_mm,
        "module_width": module_width_mm,
        "quiet_zone": 2.0,
        "write_text": False,
        "compress": False,
    }
    svg = Code128(value, writer=SVGWriter()).render(writer_options).decode("utf-8")
    svg = _COMMENT.sub("", _PROLOGUE.sub("", svg, count=1)).replace(' id="barcode_group"', "")
    label = Markup.escape(value)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="barcode" ', 1))  # noqa: S704 - markup drawn by python-barcode (bars only), the label is escaped
