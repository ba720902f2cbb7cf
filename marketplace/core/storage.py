"""Uploaded files: checked by content, stored outside the static tree under random names.

Images are opened with Pillow (a file that is not really an image is refused, whatever its name), re-encoded
without metadata, and get thumbnails. Documents (licences) are PDF or images and live in a private folder that
only admin views read. The folder is ``MEDIA_DIR`` (default ``instance/media``).
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from marketplace.core.errors import N_, DomainError

THUMBNAIL_SIZES = {"thumb": 160, "medium": 600}
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class UploadRefused(DomainError):
    code = "upload.refused"
    status = 422
    message = N_("The file was refused: {why}.")


@dataclass(frozen=True)
class StoredImage:
    key: str
    width: int
    height: int


def media_root() -> Path:
    root = Path(current_app.config["MEDIA_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def _read_limited(stream, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(why=_("larger than %(mb)s MB", mb=limit // (1024 * 1024)))
    if not data:
        raise UploadRefused(why=_("empty file"))
    return data


def save_image(stream) -> StoredImage:
    """Store a product image (original as JPEG/PNG plus thumbnails); returns its random key."""
    data = _read_limited(stream, MAX_IMAGE_BYTES)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UploadRefused(why=_("not a JPEG, PNG, WebP or GIF image")) from exc
    if image.format not in IMAGE_FORMATS:
        raise UploadRefused(why=_("not a JPEG, PNG, WebP or GIF image"))
    key = secrets.token_hex(16)
    folder = media_root() / "images" / key[:2]
    folder.mkdir(parents=True, exist_ok=True)
    rgb = image.convert("RGB") if image.mode not in ("RGB", "L") else image
    rgb.save(folder / f"{key}.jpg", "JPEG", quality=88, optimize=True)
    for name, edge in THUMBNAIL_SIZES.items():
        thumb = rgb.copy()
        thumb.thumbnail((edge, edge))
        thumb.save(folder / f"{key}_{name}.jpg", "JPEG", quality=82, optimize=True)
    return StoredImage(key, image.width, image.height)


def image_path(key: str, variant: str = "") -> Path | None:
    if not key.isalnum() or (variant and variant not in THUMBNAIL_SIZES):
        return None
    path = media_root() / "images" / key[:2] / (f"{key}_{variant}.jpg" if variant else f"{key}.jpg")
    return path if path.is_file() else None


def save_document(stream, filename: str) -> str:
    """Store a private document (PDF, JPEG or PNG, checked by its first bytes); returns key with extension."""
    data = _read_limited(stream, MAX_DOCUMENT_BYTES)
    if data.startswith(b"%PDF-"):
        ext = "pdf"
    elif data.startswith(b"\xff\xd8\xff"):
        ext = "jpg"
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        ext = "png"
    else:
        raise UploadRefused(why=_("only PDF, JPEG or PNG documents are accepted"))
    key = f"{secrets.token_hex(16)}.{ext}"
    folder = media_root() / "private"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(data)
    return key


def document_path(key: str) -> Path | None:
    stem, _, ext = key.partition(".")
    if not stem.isalnum() or ext not in {"pdf", "jpg", "png"}:
        return None
    path = media_root() / "private" / key
    return path if path.is_file() else None
