"""The product file format shared by import, export and the template: its columns, readers and writers.

One row per SKU. Rows with the same ``product_ref`` make one product; the product's fields (title, category,
brand, description, weight, tags) come from its first row and may be left blank on the others. A header row
names the columns, in English (``product_ref``) or Chinese (``商品编号``); the order does not matter.

Files are recognised by their content, never by their name: an XLSX is a zip with the workbook parts; anything
else must be CSV text in UTF-8 (with or without a BOM) or GBK/GB18030, which Chinese Excel writes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter

from marketplace.core.errors import N_, DomainError

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 200_000
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024  # a zip bomb is refused before it is opened
MAX_SPECS = 3


class ImportFileRefused(DomainError):
    code = "import.file_refused"
    status = 422
    message = N_("The file cannot be imported: {why}")

    def __init__(self, why: str, **facts) -> None:
        # ``why`` is an untranslated sentence with {placeholders}; it is translated when shown.
        self.why = why
        self.why_facts = facts
        super().__init__(why=why.format(**facts))

    @property
    def text(self) -> str:
        try:
            from flask_babel import gettext

            return gettext(self.message).format(why=gettext(self.why).format(**self.why_facts))
        except (RuntimeError, KeyError):
            return str(self)


@dataclass(frozen=True)
class Column:
    key: str  # the English header, also the name used in code
    zh: str  # the Chinese header
    help: str  # untranslated description for the template and the page
    required: bool = False
    aliases: tuple[str, ...] = ()


def _spec_columns() -> list[Column]:
    columns = []
    for n in range(1, MAX_SPECS + 1):
        columns.append(
            Column(
                f"spec_{n}_name",
                f"规格{n}名称",
                N_("Name of spec %(n)s, e.g. colour; the same on every row of a product."),
                aliases=(f"spec{n}name", f"规格{n}", f"规格{n}名"),
            )
        )
        columns.append(
            Column(
                f"spec_{n}_value",
                f"规格{n}值",
                N_("Value of spec %(n)s on this row, e.g. red."),
                aliases=(f"spec{n}value", f"规格{n}的值"),
            )
        )
    return columns


# The columns, once: the template, the export and the header check all use this list.
COLUMNS: tuple[Column, ...] = (
    Column(
        "product_ref",
        "商品编号",
        N_("Groups rows into one product: the same text on every row of the product."),
        required=True,
        aliases=("ref", "product", "商品参考号", "商品编码", "产品编号"),
    ),
    Column(
        "title",
        "商品标题",
        N_("Product title, at most 200 characters."),
        required=True,
        aliases=("标题", "商品名称", "name"),
    ),
    Column(
        "category_id",
        "类目",
        N_("Category number, or its full name with / between levels (Tea/Green tea)."),
        required=True,
        aliases=("category", "类目id", "类目编号", "分类", "category_path"),
    ),
    Column("brand", "品牌", N_("Brand name as listed by the platform; may be empty."), aliases=("品牌名称",)),
    Column(
        "description",
        "商品描述",
        N_("Description; simple HTML is kept, scripts are removed."),
        aliases=("描述", "description_html", "详情"),
    ),
    Column(
        "weight_g",
        "重量(克)",
        N_("Product weight in grams, a whole number."),
        aliases=("weight", "重量", "重量g", "重量克"),
    ),
    *_spec_columns(),
    Column(
        "sku_code",
        "SKU编码",
        N_("Your code of this SKU, unique in the shop."),
        required=True,
        aliases=("sku", "code", "商家编码", "货号", "sku编号"),
    ),
    Column("barcode", "条形码", N_("Barcode (EAN/UPC); may be empty."), aliases=("条码", "ean", "upc")),
    Column(
        "price",
        "售价(元)",
        N_("Selling price in yuan, e.g. 12.50."),
        required=True,
        aliases=("售价", "价格", "销售价", "price_yuan"),
    ),
    Column(
        "market_price",
        "市场价(元)",
        N_("Crossed-out market price in yuan; may be empty."),
        aliases=("市场价", "划线价", "原价"),
    ),
    Column(
        "stock",
        "库存",
        N_("Units in stock, a whole number (empty = 0)."),
        aliases=("库存数量", "quantity", "数量"),
    ),
    Column("tags", "标签", N_("Tags, separated by commas."), aliases=("tag", "标签词")),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
COLUMN_INDEX: dict[str, int] = {key: i for i, key in enumerate(COLUMN_KEYS)}
PRODUCT_COLUMNS = ("title", "category_id", "brand", "description", "weight_g", "tags")


def _normalise_header(text: str) -> str:
    text = text.strip().lower().replace("（", "(").replace("）", ")").rstrip("*")
    return re.sub(r"[\s_\-]+", "", text)


_HEADER_NAMES: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.zh, *_column.aliases):
        _HEADER_NAMES[_normalise_header(_name)] = _column.key


def headers(language: str = "zh") -> list[str]:
    """The header row the template and the export write: Chinese names, or the English keys."""
    return [c.zh if language.startswith("zh") else c.key for c in COLUMNS]


# --- reading ----------------------------------------------------------------------------------


@dataclass
class Table:
    """The rows of a file, each a tuple in ``COLUMNS`` order, with its row number in the spreadsheet."""

    rows: list[tuple[int, tuple[str, ...]]]
    total_rows: int


def read_upload(stream, limit: int = MAX_IMPORT_BYTES) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ImportFileRefused(N_("it is larger than {mb} MB."), mb=limit // (1024 * 1024))
    if not data.strip():
        raise ImportFileRefused(N_("it is empty."))
    return data


def sniff_format(data: bytes) -> str:
    """``xlsx`` or ``csv`` from the bytes themselves; anything else is refused."""
    if data.startswith(b"PK\x03\x04"):
        _check_xlsx(data)
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileRefused(N_("old Excel .xls files are not supported; save it as .xlsx or CSV."))
    if b"\x00" in data[:65536]:
        raise ImportFileRefused(N_("it is neither CSV text nor an XLSX workbook."))
    return "csv"


def _check_xlsx(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileRefused(N_("it is a damaged zip or XLSX file.")) from exc
    with archive:
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise ImportFileRefused(N_("it is a zip file but not an XLSX workbook."))
        if sum(e.file_size for e in entries) > MAX_XLSX_UNCOMPRESSED:
            raise ImportFileRefused(N_("the workbook is too large once unpacked."))
        # Workbooks never declare XML entities; a file that does is an entity-expansion attack.
        try:
            for entry in entries:
                if entry.filename.endswith((".xml", ".rels")) and _declares_entities(archive, entry):
                    raise ImportFileRefused(N_("the workbook contains XML that is not allowed."))
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise ImportFileRefused(N_("it is a damaged zip or XLSX file.")) from exc


def _declares_entities(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    with archive.open(entry) as part:
        tail = b""
        while chunk := part.read(1 << 20):
            window = tail + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return True
            tail = chunk[-16:]
    return False


def decode_csv(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030 (a superset of GBK, what Chinese Excel saves)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileRefused(N_("it is not text in UTF-8 or GBK.")) from exc


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def _csv_records(data: bytes) -> Iterator[list[str]]:
    text = decode_csv(data)
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise ImportFileRefused(N_("the CSV text is malformed ({detail})."), detail=str(exc)) from exc


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken workbook
        raise ImportFileRefused(N_("the workbook cannot be read.")) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows, None)
            except Exception as exc:  # noqa: BLE001 - malformed sheet XML surfaces while reading
                raise ImportFileRefused(N_("the workbook cannot be read.")) from exc
            if row is None:
                return
            yield [_cell_text(v) for v in row]
    finally:
        workbook.close()


def records(data: bytes, file_format: str) -> Iterator[list[str]]:
    """The raw records of a file (header first), as lists of trimmed strings."""
    return _xlsx_records(data) if file_format == "xlsx" else _csv_records(data)


def header_map(header: list[str]) -> list[int | None]:
    """For each column of the file, its place in ``COLUMNS`` (None for an empty header); refuse bad headers."""
    mapping: list[int | None] = []
    seen: set[str] = set()
    unknown = []
    for raw in header:
        name = raw.strip().lstrip("\ufeff")
        if not name:
            mapping.append(None)
            continue
        key = _HEADER_NAMES.get(_normalise_header(name))
        if key is None:
            unknown.append(name)
            mapping.append(None)
            continue
        if key in seen:
            raise ImportFileRefused(N_("the column {name} appears twice."), name=name)
        seen.add(key)
        mapping.append(COLUMN_INDEX[key])
    if unknown:
        raise ImportFileRefused(N_("unknown column(s): {names}."), names=", ".join(unknown[:10]))
    missing = [c.key for c in COLUMNS if c.required and c.key not in seen]
    if missing:
        raise ImportFileRefused(N_("required column(s) missing: {names}."), names=", ".join(missing))
    return mapping


_UNESCAPE = tuple("=+-@\t\r")


def unescape_cell(text: str) -> str:
    """Undo the export's guard against spreadsheet formulas: ``'=x`` → ``=x``."""
    if len(text) > 1 and text[0] == "'" and text[1] in _UNESCAPE:
        return text[1:]
    return text


def escape_cell(text: str) -> str:
    """A text cell starting like a formula gets a leading apostrophe, so a spreadsheet shows it as text."""
    if text and text[0] in _UNESCAPE:
        return "'" + text
    return text


def read_table(data: bytes, file_format: str, *, max_rows: int = MAX_IMPORT_ROWS) -> Table:
    """Every non-empty row of the file in ``COLUMNS`` order; row numbers count the header as row 1."""
    source = records(data, file_format)
    header = next(source, None)
    if header is None:
        raise ImportFileRefused(N_("it has no header row."))
    mapping = header_map(header)
    # source[i] for each of COLUMNS, in one C-level call per row; -1 picks the "" appended to every record.
    sources = [-1] * len(COLUMNS)
    for i, place in enumerate(mapping):
        if place is not None:
            sources[place] = i
    pick = itemgetter(*sources)
    need = max(sources) + 1
    padding = [""] * need
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, record in enumerate(source, start=2):
        if len(record) < need:
            record = record + padding[len(record) :]
        record.append("")
        row = tuple([cell.strip() for cell in pick(record)])
        if not any(row):
            continue
        joined = "\x1f" + "\x1f".join(row)
        if "\x1f'" in joined:  # a cell starting with an apostrophe: maybe the export's formula guard
            row = tuple([unescape_cell(cell) for cell in row])
        if len(rows) >= max_rows:
            raise ImportFileRefused(N_("it has more than {limit} rows."), limit=max_rows)
        rows.append((number, row))
    if not rows:
        raise ImportFileRefused(N_("it has no rows below the header."))
    return Table(rows, len(rows))


def check_header(data: bytes, file_format: str) -> None:
    """Read just the header, so the upload form can refuse a wrong file at once."""
    header = next(records(data, file_format), None)
    if header is None:
        raise ImportFileRefused(N_("it has no header row."))
    header_map(header)


# --- writing ----------------------------------------------------------------------------------


def csv_lines(rows: Iterable[list[str]], *, flush_at: int = 64 * 1024) -> Iterator[str]:
    """CSV text in pieces of about 64 KB (for a streamed response); starts with a BOM so Excel reads UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= flush_at:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(rows: Iterable[list[str]], *, help_rows: list[list[str]] | None = None) -> bytes:
    """A workbook whose first sheet holds the rows; every cell is text, so nothing turns into a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("products")
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    if help_rows:
        notes = workbook.create_sheet("help")
        for row in help_rows:
            notes.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# Two example products for the template's help sheet: a T-shirt in two colours and a mug without specs.
EXAMPLE_ROWS: tuple[tuple[str, ...], ...] = (
    ("T1", "纯棉圆领T恤", "服装/T恤", "", "<p>100% 棉</p>", "250", "颜色", "白", "", "", "", "", "TS-WHITE", "", "59.00", "79.00", "100", "夏季,纯棉"),
    ("T1", "", "", "", "", "", "颜色", "黑", "", "", "", "", "TS-BLACK", "", "59.00", "79.00", "80", ""),
    ("M2", "陶瓷马克杯", "18", "", "", "400", "", "", "", "", "", "", "MUG-01", "6901234567892", "35.50", "", "20", "杯子"),
)  # fmt: skip
