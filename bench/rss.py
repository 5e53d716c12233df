"""Resident memory of this process, read from /proc (no dependency, imports nothing heavy)."""

from pathlib import Path


def vm_rss_mb() -> float:
    """This process's resident set size (VmRSS) in MiB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")
