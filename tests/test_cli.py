"""The command line against a real SQLite file: in-process through `bot.cli.main` (the
`run_cli` fixture), and once as the real `python -m bot` process."""

import sqlite3
import subprocess
import sys

import pytest


def count(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_init_db_twice_leaves_34_provinces_and_3321_communes(run_cli, cli_env):
    first = run_cli("init-db")
    assert first.returncode == 0, first.stderr
    second = run_cli("init-db")
    assert second.returncode == 0, second.stderr
    assert "(0 added)" in second.stdout
    db = cli_env["HOCTAP_DB_PATH"]
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 'province'") == 34
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 'commune'") == 3321
    assert count(db, "SELECT name FROM areas WHERE code = '00070'") == "Phường Hoàn Kiếm"


def test_import_hamlets_reports_bad_rows_and_keeps_good_ones(run_cli, cli_env, tmp_path):
    assert run_cli("init-db").returncode == 0
    csv_file = tmp_path / "thon.csv"
    decomposed = "Tho\u0302n Đo\u0302ng"  # typed in NFD, as some keyboards do
    csv_file.write_text(
        "commune_code,hamlet_name\n"
        f"00070,  {decomposed} \n"
        "00070,Thôn Tây\n"
        "00070,Thôn Đông,extra\n"
        "99999,Thôn Bắc\n"
        "00070,   \n"
        "00070,thôn đông\n",
        encoding="utf-8",
    )
    result = run_cli("import-hamlets", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert "line 4: expected 2 fields, found 3" in result.stdout
    assert "line 5: unknown commune code '99999'" in result.stdout
    assert "line 6: the hamlet name is empty" in result.stdout
    assert "2 hamlets added, 1 already present, 3 rows rejected" in result.stdout
    db = cli_env["HOCTAP_DB_PATH"]
    names = {
        row[0]
        for row in sqlite3.connect(db).execute("SELECT name FROM areas WHERE level = 'hamlet'")
    }
    assert names == {"Thôn Đông", "Thôn Tây"}  # NFC, trimmed

    again = run_cli("import-hamlets", str(csv_file))
    assert "0 hamlets added, 3 already present, 3 rows rejected" in again.stdout
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 'hamlet'") == 2


def test_invite_prints_the_code_alone_on_the_last_line(run_cli, cli_env, tmp_path):
    assert run_cli("init-db").returncode == 0
    (tmp_path / "thon.csv").write_text("commune_code,hamlet_name\n00070,Thôn Đông\n")
    assert run_cli("import-hamlets", str(tmp_path / "thon.csv")).returncode == 0

    result = run_cli("invite", "--role", "hamlet_head", "--area", "00070/Thôn Đông")
    assert result.returncode == 0, result.stderr
    code = result.stdout.strip().splitlines()[-1]
    assert len(code) == 12 and code.isalnum()
    db = cli_env["HOCTAP_DB_PATH"]
    assert count(db, "SELECT role FROM invites WHERE code = ?", code) == "hamlet_head"
    assert count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'invite.created'") == 1

    admin = run_cli("invite", "--role", "admin", "--expires-days", "3")
    assert admin.returncode == 0, admin.stderr

    revoked = run_cli("revoke-invite", code.lower())
    assert revoked.returncode == 0, revoked.stderr
    assert count(db, "SELECT revoked_at IS NOT NULL FROM invites WHERE code = ?", code) == 1
    assert count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'invite.revoked'") == 1

    unknown = run_cli("invite", "--role", "staff", "--area", "00070/Thôn Không Có")
    assert unknown.returncode == 2
    assert "unknown area" in unknown.stderr
    unfit = run_cli("invite", "--role", "hamlet_head", "--area", "00070")
    assert unfit.returncode == 2
    assert "a hamlet_head is invited for a hamlet, not a commune" in unfit.stderr
    again = run_cli("revoke-invite", code)
    assert again.returncode == 0 and "revoked already" in again.stdout
    created = "SELECT COUNT(*) FROM audit_log WHERE action = 'invite.created' AND actor_id IS NULL"
    assert count(db, created) == 2
    assert count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'invite.revoked'") == 1


def test_run_without_token_exits_with_one_line(cli_env, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "HOCTAP_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_usage_mistake_exits_with_status_2_and_the_usage(run_cli):
    result = run_cli("invite", "--area", "00070")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage: hoctap invite" in result.stderr
    assert "the following arguments are required: --role" in result.stderr
    assert run_cli("--help").returncode == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOCTAP_TIMEZONE", "Mars/Olympus"),
        ("HOCTAP_BOT_TOKEN", "not a token"),
        ("HOCTAP_NEXT_YEAR_FROM", "31/02"),
    ],
)
def test_invalid_setting_names_the_variable(run_cli, cli_env, variable, value):
    result = run_cli("init-db", env=cli_env | {variable: value})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {variable}:")
    assert result.stderr.strip().count("\n") == 0
    if variable == "HOCTAP_BOT_TOKEN":
        assert value not in result.stderr


def test_backup_copies_database_and_media(run_cli, cli_env, tmp_path):
    assert run_cli("init-db").returncode == 0
    media = tmp_path / "data" / "media" / "2026"
    media.mkdir(parents=True)
    (media / "a.jpg").write_bytes(b"\xff\xd8photo")
    result = run_cli("backup", str(tmp_path / "backups"))
    assert result.returncode == 0, result.stderr
    (target,) = (tmp_path / "backups").iterdir()
    assert count(target / "hoctap.sqlite3", "SELECT COUNT(*) FROM areas") == 34 + 3321
    assert (target / "media" / "2026" / "a.jpg").read_bytes() == b"\xff\xd8photo"


def test_demo_prints_a_transcript_without_a_token(run_cli):
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    assert "👤 Lan: /start " in result.stdout
    assert "Chào mừng Nguyễn Thị Lan!" in result.stdout
    assert "Số đăng ký: GD-" in result.stdout
    assert "Dashboard for the commune's staff (HTTP 200):" in result.stdout
    assert "Traceback" not in result.stderr
