"""What an evidence image is: its format, size, capture time and perceptual fingerprint.

Pure functions over bytes (Pillow, NumPy, SciPy), so they can be tested without a bot;
`examine` runs them in a worker thread, off the event loop (Pillow, NumPy and SciPy release
the GIL while they work). HEIC/HEIF photos from iPhones are read when pillow-heif is installed.

The fingerprint (see storage/near_duplicates.py for how it is searched): the image is turned
upright by its EXIF orientation and reduced to grey. A stored photo is represented by the
64-bit pHash of its centre (12 % in from every side), which every copy cropped by up to 12 % per
side still shows; a new photo is hashed at each place that centre could be in it (cropped at
the centre or keeping a corner, every 2 %), so a crop is compared aligned to within 1 %. A
finer 256-bit hash of the same part, compared after a small alignment search, tells a re-sent
copy from another filled copy of the same printed form.
"""

import asyncio
import hashlib
import io
import itertools
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.fft import dct

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
# A stored photo is indexed by the pHash of its centre KEPT_CUT in from every side: the part
# that every copy cropped by up to 12 % per side still shows. A new photo is hashed where that
# part would be in it if it were such a copy (`HYPOTHESES`: cropped at the centre or keeping
# one corner, every CUT_STEP), and each of those hashes is looked up.
KEPT_CUT = 0.12
CUT_STEP = 0.02
CUTS = tuple(round(i * CUT_STEP, 4) for i in range(round(KEPT_CUT / CUT_STEP) + 1))
# Hashes at most this many bits apart (of 64) are near-duplicate candidates: a resized,
# recompressed copy stays within 0-4 bits, unrelated photos are ~32 bits apart.
NEAR_DUPLICATE_DISTANCE = 5
# A candidate is confirmed when the finer 256-bit hashes of the same part, aligned, differ in
# at most this many bits: re-sent copies of a filled form stay within 20, two forms of one
# template filled for different families are 28 or more apart (bench/evidence_reuse.py).
CONFIRM_DISTANCE = 24
ALIGN_STEPS = (0.01, 0.004)
# Larger images are refused before they are decoded: a 12000 x 12000 PNG takes 690 MB and
# seconds of CPU (phone cameras make at most about 50 megapixels; Telegram photos 2560 px).
MAX_PIXELS = 50_000_000
# The side of the grey working copy every hash is computed from.
WORK_SIDE = 512
# An image whose grey working copy varies less than this (standard deviation, of 255) is
# blank: one colour, or nearly; its hashes say nothing and it is never a near-duplicate.
BLANK_SPREAD = 6.0


def _hypotheses() -> tuple[tuple[float, float, float, float], ...]:
    """Where a stored photo's kept part lies (left, top, right, bottom, as fractions) in a copy
    cropped by `cut` per side at the centre, or by `cut` from two sides keeping a corner."""
    boxes = []
    inner = 1 - 2 * KEPT_CUT
    for cut in CUTS:
        span = 1 - 2 * cut
        start = (KEPT_CUT - cut) / span
        boxes.append((start, start, start + inner / span, start + inner / span))
    for cut in CUTS[1:]:
        span = 1 - cut
        for left_kept in (True, False):
            for top_kept in (True, False):
                x = KEPT_CUT / span if left_kept else (KEPT_CUT - cut) / span
                y = KEPT_CUT / span if top_kept else (KEPT_CUT - cut) / span
                boxes.append((x, y, x + inner / span, y + inner / span))
    return tuple(boxes)


HYPOTHESES = _hypotheses()
KEPT = HYPOTHESES[0]  # an uncropped copy: the kept part itself

# Pillow warns above 89 megapixels; MAX_PIXELS refuses those images before anything else.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
_workers: ThreadPoolExecutor | None = None


class NotAnImage(ValueError):
    """The bytes are not an image in a format we keep."""


class TooLarge(ValueError):
    """The image has more than MAX_PIXELS pixels."""


@dataclass(frozen=True)
class Fingerprint:
    """What is kept of an image: the 64-bit pHash (unsigned) and finer 256-bit hash (32 bytes)
    of its kept part, and whether it is blank; and, to look it up, the same two hashes of each
    of its HYPOTHESES (not stored)."""

    hash: int
    fine: bytes
    blank: bool
    probes: tuple[int, ...] = ()
    grey: Image.Image | None = field(default=None, compare=False, repr=False)


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
    return await in_worker(lambda: inspect(data))


async def in_worker(work):
    """Run `work()` in the image worker threads."""
    global _workers
    if _workers is None:
        _workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="images")
    return await asyncio.get_running_loop().run_in_executor(_workers, work)


def inspect(data: bytes) -> ImageFacts:
    """The facts of an image; NotAnImage if Pillow cannot read it or the format is not kept,
    TooLarge if it has more than MAX_PIXELS pixels (found from its header, before decoding)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = FORMATS.get(image.format or "")
            if kind is None:
                raise NotAnImage(f"format {image.format!r} is not accepted")
            if image.width * image.height > MAX_PIXELS:
                raise TooLarge(f"{image.width} x {image.height} pixels")
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
                phash=f"{print_.hash:016x}",
                fingerprint=print_,
            )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("a decompression bomb") from None
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
    probes = tuple(dct_hash(grey, box, 8) for box in HYPOTHESES)
    return Fingerprint(
        hash=probes[0],
        fine=dct_hash(grey, KEPT, 16).to_bytes(32, "big"),
        blank=spread < BLANK_SPREAD,
        probes=probes,
        grey=grey,
    )


def aligned_distance(fingerprint: Fingerprint, probe: int, stored_fine: bytes) -> int:
    """How many of 256 bits the finer hash of a stored photo differs from the new photo's,
    at the best alignment near `probe`'s hypothesis: the box is moved and scaled by up to
    ALIGN_STEPS, so a copy's residual misalignment (up to 1 % of a side) does not count."""
    target = int.from_bytes(stored_fine, "big")
    best, box = 257, HYPOTHESES[probe]
    for step in ALIGN_STEPS:
        left, top, right, bottom = box
        for dx, dy, grow in itertools.product((-step, 0, step), repeat=3):
            moved = (left + dx - grow, top + dy - grow, right + dx + grow, bottom + dy + grow)
            distance = (dct_hash(fingerprint.grey, moved, 16) ^ target).bit_count()
            if distance < best:
                best, chosen = distance, moved
        box = chosen
    return best


async def aligned_distances(fingerprint: Fingerprint, pairs: list[tuple[int, bytes]]) -> list[int]:
    """`aligned_distance` of each (probe, stored finer hash), in the worker thread."""
    return await in_worker(
        lambda: [aligned_distance(fingerprint, probe, fine) for probe, fine in pairs]
    )


def dct_hash(grey: Image.Image, box: tuple[float, float, float, float], side: int) -> int:
    """pHash of a part of the image (fractions of its sides): reduced to 4 x side pixels, the
    side x side lowest frequencies of its DCT, one bit each, set where above their median."""
    width, height = grey.size
    left, top, right, bottom = (min(max(v, 0.0), 1.0) for v in box)
    area = (left * width, top * height, right * width, bottom * height)
    small = grey.resize((4 * side, 4 * side), Image.Resampling.BOX, box=area)
    frequencies = dct(dct(np.asarray(small, dtype=np.float64), axis=0), axis=1)[:side, :side]
    bits = (frequencies > np.median(frequencies)).flatten()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


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
