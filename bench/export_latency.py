"""Other people's button presses while a whole-country export runs: p99 with and without.

Generates a national dataset with `bench/summary_scale.py`'s generator (`--scale` million
registrations of 2025, with their photos and reviews), enrols hamlet heads as
`bench/dialog_throughput.py` does, and builds the bot with `build_application` on the offline
Bot API of `bench/offline.py`. Then hamlet heads go through /dangky, one update every
`--pace-ms`, each update's time in `process_update` measured:

1. without an export (the baseline);
2. while an administrator's `/xuat 2025` (the whole country, XLSX) runs, as the bot runs it
   (in a worker process, `bot.export.export_off_loop`), until the file is sent;
3. with `--in-loop`, while the same export runs on the bot's own event loop
   (`bot.export.export`, as before issue 12), for comparison.

Prints the percentiles of each phase and the ratio of the p99s, never pass/fail. The issue's
target: the p99 during the export at most 3x the p99 without.

    PYTHONPATH=. .venv/bin/python bench/export_latency.py [--scale 0.05] [--in-loop]
"""

import argparse
import asyncio
import itertools
import shutil
import statistics
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram.warnings import PTBUserWarning

from bench.dialog_throughput import prepare, registration_updates
from bench.offline import TOKEN, OfflineRequest, Script, machine_lines
from bench.summary_scale import SEED, generate
from bot.app import build_application
from bot.config import Settings
from bot.export import Format, export
from bot.i18n import use_locale
from storage import Storage

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def percentiles(times: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(times)}


def line(label: str, times: list[float]) -> str:
    found = percentiles(times)
    cells = ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in found.items())
    return f"{label}: {len(times)} updates; {cells}"


class Presses:
    """Hamlet heads' /dangky updates, one person after another, each built after the reply;
    when every head has registered, each registers another family (another name)."""

    def __init__(self, script: Script, telegram_ids: list[int]) -> None:
        self.steps = (
            build
            for round_ in itertools.count()
            for i, user_id in enumerate(telegram_ids)
            for build in registration_updates(script, user_id, i + 1000 * round_)
        )

    async def run(self, app, pace: float, stop) -> list[float]:
        times = []
        while not stop(len(times)):
            await asyncio.sleep(pace)
            update = next(self.steps)()
            started = time.perf_counter()
            await app.process_update(update)
            times.append(time.perf_counter() - started)
        return times


async def measure(path: Path, admin: int, args: argparse.Namespace) -> None:
    storage = await Storage.open(path)
    telegram_ids = await prepare(storage, args.people)
    settings = Settings(_env_file=None, bot_token=TOKEN, db_path=path, media_dir=path.parent)
    request = OfflineRequest()
    app = build_application(
        settings, storage, request=request, get_updates_request=OfflineRequest()
    )
    app.bot._rate_limiter = None  # Telegram's 30 messages/s cap is not what is measured
    errors = []

    async def count_error(update: object, context) -> None:
        errors.append(repr(context.error))

    app.add_error_handler(count_error)
    pace = args.pace_ms / 1000
    async with app:
        script = Script(request, app.bot)
        presses = Presses(script, telegram_ids)
        await presses.run(app, pace, lambda n: n >= 100)  # warm-up
        baseline = await presses.run(app, pace, lambda n: n >= args.baseline)
        print(line("(a) no export", baseline))

        started = time.perf_counter()
        task = asyncio.create_task(app.process_update(script.text(admin, "/xuat 2025")))
        during = await presses.run(app, pace, lambda n: task.done())
        await task
        seconds = time.perf_counter() - started
        sent = request.documents[-1][1] if request.documents else 0
        print(
            line("(b) during /xuat of the country, in a worker process", during)
            + f"; export {seconds:.1f} s, {sent / 2**20:.1f} MB sent"
        )
        b99, a99 = percentiles(during)["p99"], percentiles(baseline)["p99"]
        print(f"    p99 ratio b/a: {b99 / a99:.2f} (target at most 3)")

        if args.in_loop:
            now = datetime.now(ZONE)

            async def in_loop():
                with use_locale("vi"):
                    return await export(storage, None, 2025, Format.XLSX, now)

            started = time.perf_counter()
            task = asyncio.create_task(in_loop())
            on_loop = await presses.run(app, pace, lambda n: task.done())
            data, _name = await task
            seconds = time.perf_counter() - started
            print(
                line("(c) during the same export on the event loop", on_loop)
                + f"; export {seconds:.1f} s, {len(data) / 2**20:.1f} MB"
            )
            print(f"    p99 ratio c/a: {percentiles(on_loop)['p99'] / a99:.2f}")
    await storage.close()
    print(f"errors in handlers: {len(errors)} {errors[:3]}")


def main() -> None:
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05, help="million registrations")
    parser.add_argument("--people", type=int, default=600, help="hamlet heads pressing buttons")
    parser.add_argument("--baseline", type=int, default=1500, help="updates without an export")
    parser.add_argument("--pace-ms", type=float, default=10.0, help="between two updates")
    parser.add_argument("--in-loop", action="store_true", help="also on the event loop")
    args = parser.parse_args()
    for text in machine_lines():
        print(text)
    folder = Path(tempfile.mkdtemp(prefix="hoctap-latency-"))
    try:
        path = folder / "hoctap.sqlite3"
        facts = generate(path, args.scale, SEED, "79")
        print(
            f"dataset: {sum(facts['registrations'].values()):,} registrations of 2025,"
            f" {facts['evidence']:,} photos, generated in {facts['seconds']:.0f} s"
        )
        asyncio.run(measure(path, 7_000_000_000 + facts["admin"], args))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
