"""Stored files of the fake Bot API: bytes, ids, paths and photo sizes."""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

#: The Bot API refuses ``getFile`` for files bigger than this.
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
THUMBNAIL_SIDE = 90

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers carry the image size; C4, C8 and CC are other markers.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass
class StoredFile:
    """One file the fake server knows, sent by a person or uploaded by the bot."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    photo: list[JSON] | None = None  # the PhotoSize list this file is one size of

    @property
    def size(self) -> int:
        return len(self.data)

    def as_file(self) -> JSON:
        """The ``File`` object that ``getFile`` returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def as_document(self) -> JSON:
        document: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG image, or (1, 1) if they cannot be read."""
    if data.startswith(_PNG_SIGNATURE) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data) or (1, 1)
    return 1, 1


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG segments until a start-of-frame segment."""
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return None


def _thumbnail_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, THUMBNAIL_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class FileStore:
    """All files by file_id and by file_path; ids are numbered from 1 in creation order."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._numbers = itertools.count(1)

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def add(
        self,
        data: bytes,
        folder: str,
        suffix: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        number = next(self._numbers)
        stored = StoredFile(
            file_id=f"{folder.upper()}-FILE-{number:06d}",
            file_unique_id=f"UNIQUE{number:06d}",
            data=data,
            file_path=f"{folder}/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def add_photo(self, data: bytes) -> list[JSON]:
        """Store a photo as a thumbnail and a full size (same bytes); return the PhotoSizes."""
        width, height = image_size(data)
        thumb_width, thumb_height = _thumbnail_size(width, height)
        sizes: list[JSON] = []
        for w, h in ((thumb_width, thumb_height), (width, height)):
            stored = self.add(data, "photos", ".jpg")
            stored.photo = sizes
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.size,
                    "width": w,
                    "height": h,
                }
            )
        return sizes
