"""Households per hamlet: the optional CSV column, the `households` command, and the rate's
denominator per child area (unknown unless every hamlet is counted, never zero)."""

import sqlite3

from storage.households import Households, family_rate


def households(db, name):
    rows = sqlite3.connect(db).execute("SELECT households FROM areas WHERE name = ?", (name,))
    return rows.fetchone()[0]


def test_import_hamlets_reads_an_optional_households_column(run_cli, cli_env, tmp_path):
    assert run_cli("init-db").returncode == 0
    (tmp_path / "thon.csv").write_text(
        "commune_code,hamlet_name,households\n"
        "00070,Thôn Đông,120\n"
        "00070,Thôn Tây,\n"
        "00070,Thôn Nam,-3\n"
        "00070,Thôn Bắc,nhiều\n"
        "00070,Thôn Trung\n",
        encoding="utf-8",
    )
    result = run_cli("import-hamlets", str(tmp_path / "thon.csv"))
    assert result.returncode == 0, result.stderr
    assert "line 4: households must be a whole number, 0 or more, not '-3'" in result.stdout
    assert "line 5: households must be a whole number, 0 or more, not 'nhiều'" in result.stdout
    assert "line 6: expected 3 fields, found 2" in result.stdout
    assert "2 hamlets added, 0 already present, 3 rows rejected" in result.stdout
    db = cli_env["HOCTAP_DB_PATH"]
    assert households(db, "Thôn Đông") == 120
    assert households(db, "Thôn Tây") is None  # empty: not known, not zero
    # a second import with a count updates the hamlet already there
    (tmp_path / "again.csv").write_text(
        "commune_code,hamlet_name,households\n00070,thôn tây,80\n", encoding="utf-8"
    )
    again = run_cli("import-hamlets", str(tmp_path / "again.csv"))
    assert "0 hamlets added, 1 already present, 0 rows rejected" in again.stdout
    assert households(db, "Thôn Tây") == 80


def test_households_command_shows_sets_and_clears_a_count(run_cli, cli_env, tmp_path):
    assert run_cli("init-db").returncode == 0
    (tmp_path / "thon.csv").write_text("commune_code,hamlet_name\n00070,Thôn Đông\n")
    assert run_cli("import-hamlets", str(tmp_path / "thon.csv")).returncode == 0
    shown = run_cli("households", "00070/Thôn Đông")
    assert shown.stdout.strip() == "Thôn Đông (00070): households unknown"
    assert "households 95" in run_cli("households", "00070/THÔN ĐÔNG", "95").stdout
    db = cli_env["HOCTAP_DB_PATH"]
    assert households(db, "Thôn Đông") == 95
    audit = sqlite3.connect(db).execute(
        "SELECT before, after FROM audit_log WHERE action = 'hamlet.households_set'"
    )
    assert audit.fetchone() == ('{"households": null}', '{"households": 95, "by": "command line"}')
    bad = run_cli("households", "00070/Thôn Đông", "-1")
    assert bad.returncode == 2 and "whole number" in bad.stderr
    assert run_cli("households", "00070/Thôn Không Có", "5").returncode == 2
    assert "households unknown" in run_cli("households", "00070/Thôn Đông", "unknown").stdout
    assert households(db, "Thôn Đông") is None


def test_the_rate_is_known_only_when_every_hamlet_is_counted():
    assert Households(hamlets=3, counted=3, total=200).known == 200
    assert Households(hamlets=3, counted=2, total=150).known is None
    assert Households().known is None  # no hamlet at all: unknown, not zero
    assert family_rate(10, Households(2, 2, 40)) == 0.25
    assert family_rate(10, Households(2, 1, 40)) is None
    assert family_rate(0, Households(1, 1, 0)) is None  # no households: no rate


async def test_households_per_child_area(storage, hamlets):
    await storage.households.set(hamlets["Thôn Đông"], 30)
    await storage.households.set(hamlets["Thôn Tây"], 20)
    communes = await storage.households.per_child(await storage.areas.by_code("01"))
    assert communes["00070"] == Households(2, 2, 50)
    assert communes["00073"] == Households(1, 0, 0)
    country = await storage.households.per_child(None)
    assert country["01"] == Households(3, 2, 50) and country["01"].known is None
