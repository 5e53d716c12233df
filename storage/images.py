"""What an evidence image is: its format, size, capture time and perceptual hash.

Pure functions over bytes (Pillow and imagehash), so they can be tested without a bot.
HEIC/HEIF photos from iPhones are read when pillow-heif is installed.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

import imagehash
from PIL import Image, UnidentifiedImageError

try:  # optional: HEIC support
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - depends on the platform's wheels
    HEIC_SUPPORTED = False
else:
    register_heif_opener()
    HEIC_SUPPORTED = True

# Pillow format -> (MIME type, file extension) of the formats accepted as evidence.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),  # some phones' JPEGs open as MPO
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "HEIF": ("image/heic", "heic"),
}
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 36867
# Photos whose perceptual hashes differ in at most this many of 64 bits are taken as copies:
# a resized, recompressed copy stays within 0-4 bits, unrelated photos are ~32 bits apart.
NEAR_DUPLICATE_DISTANCE = 6


class NotAnImage(ValueError):
    """The bytes are not an image in a format we keep."""


@dataclass(frozen=True)
class ImageFacts:
    sha256: str
    size: int
    width: int
    height: int
    mime_type: str
    extension: str
    captured_at: datetime | None
    phash: str


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inspect(data: bytes) -> ImageFacts:
    """The facts of an image; NotAnImage if Pillow cannot read it or the format is not kept."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            kind = FORMATS.get(image.format or "")
            if kind is None:
                raise NotAnImage(f"format {image.format!r} is not accepted")
            return ImageFacts(
                sha256=sha256_of(data),
                size=len(data),
                width=image.width,
                height=image.height,
                mime_type=kind[0],
                extension=kind[1],
                captured_at=capture_time(image),
                phash=str(imagehash.phash(image)),
            )
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise NotAnImage(str(error)) from None


def capture_time(image: Image.Image) -> datetime | None:
    """EXIF DateTimeOriginal ('2026:03:14 09:30:00'), as the camera's local time."""
    try:
        value = image.getexif().get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
    except (OSError, ValueError, KeyError):  # a damaged EXIF block must not lose the photo
        return None
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def hash_distance(first: str, second: str) -> int:
    """How many of the 64 bits of two perceptual hashes (hex) differ."""
    return (int(first, 16) ^ int(second, 16)).bit_count()


def near_duplicate(first: str, second: str) -> bool:
    return hash_distance(first, second) <= NEAR_DUPLICATE_DISTANCE
