"""What an evidence image is: its format, size, capture time and perceptual fingerprint.

Pure functions over bytes (Pillow, imagehash, NumPy), so they can be tested without a bot;
`examine` runs them in a worker thread, off the event loop (Pillow, NumPy and SciPy release
the GIL while they work). HEIC/HEIF photos from iPhones are read when pillow-heif is installed.

The fingerprint (see storage/near_duplicates.py for how it is searched): the image is turned
upright by its EXIF orientation and reduced to grey; six regions (the whole frame, its centre
and its four corners at 85 % of each side) each get a 64-bit pHash, so that a copy cropped by
up to 12 % per side still has a region in common with its original; each region also gets a
finer 256-bit hash that tells two filled copies of one printed form apart.
"""

import asyncio
import hashlib
import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import imagehash
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

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
# Regions whose 64-bit pHashes differ in at most this many bits are near-duplicate candidates:
# a resized, recompressed copy stays within 0-4 bits, unrelated photos are ~32 bits apart.
NEAR_DUPLICATE_DISTANCE = 7
# A candidate is confirmed when the finer 256-bit hashes of the matching regions differ in at
# most this many bits (bench/evidence_reuse.py measures both thresholds).
CONFIRM_DISTANCE = 40
# Larger images are refused before they are decoded: a 12000 x 12000 PNG takes 690 MB and
# seconds of CPU (phone cameras make at most about 50 megapixels; Telegram photos 2560 px).
MAX_PIXELS = 50_000_000
# The side of the grey working copy every hash is computed from.
WORK_SIDE = 512
# An image whose grey working copy varies less than this (standard deviation, of 255) is
# blank: one colour, or nearly; its hashes say nothing and it is never a near-duplicate.
BLANK_SPREAD = 6.0
REGION_SIDE = 0.85
# (left, top) of each region as a fraction of the frame; the whole frame first.
REGIONS = ((None, None), (0.075, 0.075), (0.0, 0.0), (0.15, 0.0), (0.0, 0.15), (0.15, 0.15))
FULL_FRAME = 0

# Pillow warns above 89 megapixels; MAX_PIXELS refuses those images before anything else.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
_workers: ThreadPoolExecutor | None = None


class NotAnImage(ValueError):
    """The bytes are not an image in a format we keep."""


class TooLarge(ValueError):
    """The image has more than MAX_PIXELS pixels (width and height 0 when unknown)."""

    def __init__(self, width: int = 0, height: int = 0) -> None:
        super().__init__(f"{width} x {height} pixels")
        self.width, self.height = width, height


@dataclass(frozen=True)
class Fingerprint:
    """What the near-duplicate index keeps of an image: per region, a 64-bit pHash (unsigned)
    and a 256-bit finer hash (32 bytes); and whether the image is blank."""

    hashes: tuple[int, ...]
    fine: tuple[bytes, ...]
    blank: bool


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
    fingerprint: Fingerprint


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def examine(data: bytes) -> ImageFacts:
    """`inspect` in a worker thread, so the bot keeps answering others meanwhile."""
    global _workers
    if _workers is None:
        _workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="images")
    return await asyncio.get_running_loop().run_in_executor(_workers, inspect, data)


def inspect(data: bytes) -> ImageFacts:
    """The facts of an image; NotAnImage if Pillow cannot read it or the format is not kept,
    TooLarge if it has more than MAX_PIXELS pixels (found from its header, before decoding)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = FORMATS.get(image.format or "")
            if kind is None:
                raise NotAnImage(f"format {image.format!r} is not accepted")
            if image.width * image.height > MAX_PIXELS:
                raise TooLarge(image.width, image.height)
            width, height = image.size
            captured_at = capture_time(image)
            print_ = fingerprint(image)
            return ImageFacts(
                sha256=sha256_of(data),
                size=len(data),
                width=width,
                height=height,
                mime_type=kind[0],
                extension=kind[1],
                captured_at=captured_at,
                phash=f"{print_.hashes[FULL_FRAME]:016x}",
                fingerprint=print_,
            )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, NotAnImage | TooLarge):
            raise
        raise NotAnImage(str(error)) from None


def working_copy(image: Image.Image) -> Image.Image:
    """The image upright (EXIF orientation applied), grey, longest side at most WORK_SIDE.
    A JPEG is decoded straight at a reduced scale (`draft`), which is fast and small."""
    image.draft("L", (WORK_SIDE, WORK_SIDE))
    upright = ImageOps.exif_transpose(image.convert("L"))
    upright.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return upright


def fingerprint(image: Image.Image) -> Fingerprint:
    grey = working_copy(image)
    spread = float(np.asarray(grey.resize((64, 64), Image.Resampling.BOX)).std())
    regions = [region(grey, index) for index in range(len(REGIONS))]
    return Fingerprint(
        hashes=tuple(_bits(imagehash.phash(r)) for r in regions),
        fine=tuple(_bytes(imagehash.phash(r, hash_size=16)) for r in regions),
        blank=spread < BLANK_SPREAD,
    )


def region(grey: Image.Image, index: int) -> Image.Image:
    left, top = REGIONS[index]
    if left is None:
        return grey
    width, height = grey.size
    box = (left * width, top * height, (left + REGION_SIDE) * width, (top + REGION_SIDE) * height)
    return grey.crop(tuple(round(v) for v in box))


def _bits(value: imagehash.ImageHash) -> int:
    return int(str(value), 16)


def _bytes(value: imagehash.ImageHash) -> bytes:
    return bytes(np.packbits(value.hash.flatten()))


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
