"""Synthetic evidence pictures for tests and benchmarks: photographs, filled forms, copies.

Nothing is downloaded: a "photograph" is a 1/f-noise colour field (the spectrum of natural
scenes) with lit shapes and texture; a "form" is one printed template filled with a family's
name, numbers and handwriting, flat or photographed at an angle. The alterations are what
people do to a photo before sending it again.
"""

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

EXIF_ORIENTATION = 0x0112


def photograph(seed: int, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """A distinct photograph-like RGB image."""
    rng = np.random.default_rng(seed)
    width, height = size
    small = (height // 4, width // 4)
    fy = np.fft.fftfreq(small[0])[:, None]
    fx = np.fft.fftfreq(small[1])[None, :]
    falloff = 1 / np.maximum(np.hypot(fx, fy), 1 / max(small)) ** 1.8
    channels = []
    base = rng.normal(size=3)
    for c in range(3):
        spectrum = falloff * np.exp(2j * np.pi * rng.random(small))
        field = np.real(np.fft.ifft2(spectrum))
        field = (field - field.mean()) / (field.std() + 1e-9)
        channels.append(128 + 45 * (field + 0.6 * base[c]))
    array = np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)
    image = Image.fromarray(array).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    pyrng = random.Random(seed)
    for _ in range(pyrng.randrange(4, 12)):
        x, y = pyrng.randrange(width), pyrng.randrange(height)
        w, h = pyrng.randrange(width // 12, width // 3), pyrng.randrange(height // 12, height // 3)
        colour = tuple(pyrng.randrange(256) for _ in range(3))
        shape = pyrng.choice((draw.rectangle, draw.ellipse))
        shape([x, y, x + w, y + h], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = rng.normal(0, 6, (height, width, 1))
    noisy = np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(noisy)


def blank(colour: tuple[int, int, int], size: tuple[int, int] = (1280, 960)) -> Image.Image:
    """A photo of nothing: one colour with a little sensor noise."""
    rng = np.random.default_rng(sum(colour))
    array = np.asarray(Image.new("RGB", size, colour), dtype=np.float32)
    array += rng.normal(0, 1.5, array.shape)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _scribble(draw: ImageDraw.ImageDraw, rng: random.Random, box, ink) -> None:
    """Handwriting: a wavy pen stroke across the box."""
    x0, y0, x1, y1 = box
    points, x = [], x0
    while x < x1:
        points.append((x, rng.uniform(y0, y1)))
        x += rng.uniform(4, 12)
    draw.line(points, fill=ink, width=2)


NAMES = ("Nguyen Van", "Tran Thi", "Le Van", "Pham Thi", "Hoang Van", "Vu Thi", "Dang Van")
GIVEN = ("Hoa", "Lan", "Binh", "Minh", "Thu", "Nam", "Huong", "Tuan", "Mai", "Dung")


def form(family: int, template: int = 0, size: tuple[int, int] = (1240, 1754)) -> Image.Image:
    """One printed certificate template (the same for every family of `template`), filled in
    for `family` with a name, numbers and handwriting."""
    width, height = size
    image = Image.new("RGB", size, (250, 250, 246))
    draw = ImageDraw.Draw(image)
    layout = random.Random(1000 + template)
    draw.rectangle([40, 40, width - 40, height - 40], outline=(20, 20, 20), width=4)
    draw.text((width // 2, 110), "CONG HOA XA HOI CHU NGHIA VIET NAM", (0, 0, 0), _font(40), "mm")
    draw.text((width // 2, 170), "Doc lap - Tu do - Hanh phuc", (0, 0, 0), _font(32), "mm")
    title = f"GIAY XAC NHAN {layout.randrange(100)}"
    draw.text((width // 2, 300), title, (150, 0, 0), _font(56), "mm")
    rows = [300 + 140 * (i + 1) for i in range(8)]
    for i, y in enumerate(rows):
        label = f"Muc {i + 1}: " + "".join(
            layout.choice("abcdeghiklmnopqrstuvxy ") for _ in range(14)
        )
        draw.text((100, y), label, (0, 0, 0), _font(30))
        for x in range(520, width - 100, 12):
            draw.point((x, y + 34), fill=(60, 60, 60))
    draw.rectangle([width - 420, height - 380, width - 120, height - 140], outline=(0, 0, 0))
    fill = random.Random(family * 7919 + template)
    ink = (20, 30, 120)
    name = f"{fill.choice(NAMES)} {fill.choice(GIVEN)} {fill.randrange(1, 99)}"
    draw.text((540, rows[0] - 6), name, ink, _font(40))
    draw.text((540, rows[1] - 6), f"{fill.randrange(1930, 2020)}", ink, _font(40))
    draw.text((540, rows[2] - 6), f"{fill.randrange(10**8, 10**9)}", ink, _font(40))
    for y in rows[3:7]:
        _scribble(draw, fill, (540, y - 10, 540 + fill.randrange(200, 560), y + 30), ink)
    _scribble(draw, fill, (width - 400, height - 330, width - 160, height - 200), ink)
    stamp = (width - 330 + fill.randrange(-40, 40), height - 270 + fill.randrange(-30, 30))
    draw.ellipse(
        [stamp[0] - 90, stamp[1] - 90, stamp[0] + 90, stamp[1] + 90], outline=(200, 0, 0), width=6
    )
    return image


def photographed(image: Image.Image, seed: int) -> Image.Image:
    """The page photographed by hand: at an angle, on a table, unevenly lit."""
    rng = random.Random(seed)
    width, height = image.size
    canvas_size = (int(width * 1.15), int(height * 1.15))
    margin_x, margin_y = width * 0.075, height * 0.075
    corners = [(0, 0), (0, height), (width, height), (width, 0)]
    seen = [
        (margin_x + x + rng.uniform(-60, 60), margin_y + y + rng.uniform(-60, 60))
        for x, y in corners
    ]
    coefficients = _perspective(seen, corners)
    page = image.transform(canvas_size, Image.Transform.PERSPECTIVE, coefficients)
    mask = Image.new("L", image.size, 255).transform(
        canvas_size, Image.Transform.PERSPECTIVE, coefficients
    )
    canvas = Image.new("RGB", canvas_size, (90, 70, 50))
    canvas.paste(page, (0, 0), mask)
    light = np.linspace(0.8 + rng.uniform(-0.1, 0.1), 1.05, canvas_size[0])[None, :, None]
    array = np.asarray(canvas, dtype=np.float32) * light
    array += np.random.default_rng(seed).normal(0, 4, array.shape)
    result = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    return result.resize((width, height), Image.Resampling.BILINEAR)


def _perspective(seen, page) -> tuple[float, ...]:
    """Coefficients mapping points of the photo (`seen`) to points of the page."""
    rows, values = [], []
    for (x, y), (u, v) in zip(seen, page, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values.extend((u, v))
    return tuple(np.linalg.solve(np.array(rows), np.array(values)))


# --- what people do to a photo before sending it again ----------------------------------


def jpeg(image: Image.Image, quality: int = 85, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    options = {"exif": exif.tobytes()} if exif is not None else {}
    image.convert("RGB").save(out, "JPEG", quality=quality, **options)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def resized(image: Image.Image, factor: float) -> Image.Image:
    return image.resize((round(image.width * factor), round(image.height * factor)))


def as_sent(image: Image.Image, side: int = 1280) -> Image.Image:
    """What Telegram does to a photo: longest side at most `side`."""
    copy = image.copy()
    copy.thumbnail((side, side))
    return copy


def cropped(image: Image.Image, fraction: float, anchor: str = "centre") -> Image.Image:
    """`fraction` of the width and height cut from every side, or from the two sides away
    from the corner kept."""
    width, height = image.size
    dx, dy = round(width * fraction), round(height * fraction)
    boxes = {
        "centre": (dx, dy, width - dx, height - dy),
        "top-left": (0, 0, width - dx, height - dy),
        "top-right": (dx, 0, width, height - dy),
        "bottom-left": (0, dy, width - dx, height),
        "bottom-right": (dx, dy, width, height),
    }
    return image.crop(boxes[anchor])


def brightened(image: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def stored_sideways(image: Image.Image, quality: int = 90) -> bytes:
    """The same photo stored rotated, with the EXIF orientation tag that turns it upright."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # viewers rotate 90 degrees clockwise to show it
    return jpeg(image.transpose(Image.Transpose.ROTATE_90), quality, exif)
