"""Criteria sets: the shipped defaults, validation messages, evaluation, activation and the CLI."""

import sqlite3
import unicodedata
from pathlib import Path

import pytest

from storage import Storage
from storage.criteria import (
    AnswerError,
    CriteriaFileError,
    ModelKind,
    PassRuleKind,
    ScoringKind,
    SourceStatus,
    evaluate,
    load_criteria_file,
    parse_criteria,
)
from storage.criteria_repo import CriteriaError

SETS = Path(__file__).resolve().parent.parent / "storage" / "criteria_sets"
FAMILY = SETS / "family_default.yaml"
CLAN = SETS / "clan_default.yaml"

# A small valid set; tests break it one line at a time.
SMALL = """\
id: test-family
title: {vi: Bộ tiêu chí thử, en: Test set}
model_kind: family
legal_basis: Quyết định thử nghiệm
years: {from: 2026, to: 2027}
criteria:
  - code: A.1
    title: {vi: Tiêu chí một}
    indicators:
      - code: A.1.1
        text: {vi: Chỉ tiêu một}
        scoring: {kind: points, max_points: 10}
        evidence_required: false
      - code: A.1.2
        text: {vi: Chỉ tiêu hai}
        scoring: {kind: points, max_points: 20}
        evidence_required: false
  - code: A.2
    title: {vi: Tiêu chí hai}
    indicators:
      - code: A.2.1
        text: {vi: Chỉ tiêu ba}
        scoring: {kind: points, max_points: 30}
        evidence_required: false
pass_rule: {kind: points, threshold: 40, floors: {A.2: 15}}
"""


def line_of(text: str, fragment: str) -> int:
    """1-based number of the only line containing `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, found
    return found[0]


def write(tmp_path: Path, text: str, name: str = "tinh.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, text: str) -> tuple[Path, CriteriaFileError]:
    path = write(tmp_path, text)
    with pytest.raises(CriteriaFileError) as caught:
        load_criteria_file(path)
    return path, caught.value


# -- the shipped sets ----------------------------------------------------------------------


def test_the_family_default_is_the_448_framework_with_100_points():
    family = load_criteria_file(FAMILY)
    assert family.id == "hkhvn-448-family"
    assert family.model_kind is ModelKind.FAMILY
    assert [c.code for c in family.criteria] == ["GD.1", "GD.2", "GD.3", "GD.4"]
    assert [c.max_points for c in family.criteria] == [30, 30, 20, 20]
    assert family.max_points == 100
    assert len(family.all_indicators()) == 10
    assert family.pass_rule.kind is PassRuleKind.POINTS
    assert family.pass_rule.threshold == 80
    assert family.criterion("GD.1").title.vi == "Học tập của trẻ em trong gia đình"
    first = family.indicator("GD.1.1")
    assert first.text.vi.startswith("Trẻ em ở độ tuổi phổ cập đều được đến trường")
    assert first.source_status is SourceStatus.CONFIRMED
    assert family.indicator("GD.1.3").source_status is SourceStatus.PARTIAL
    assert family.indicator("GD.2.1").source_status is SourceStatus.CONFIRMED
    assert family.indicator("GD.2.1").text.vi == (
        "Người lớn trong độ tuổi từ 19 đến 60 biết chữ từ mức độ 1 trở lên."
    )
    assert family.indicator("GD.2.2").text.vi == "Mỗi người lớn học ít nhất 01 nội dung trong năm."
    assert family.indicator("GD.2.3").source_status is SourceStatus.UNCONFIRMED
    assert "khung" in family.status_note and "Framework to be confirmed locally" in (
        family.status_note
    )
    assert "448/QĐ-KHVN" in family.legal_basis


def test_the_clan_default_is_a_pass_fail_framework_of_seven_indicators():
    clan = load_criteria_file(CLAN)
    assert clan.id == "hkhvn-2022-clan"
    assert clan.model_kind is ModelKind.CLAN
    assert clan.pass_rule.kind is PassRuleKind.ALL_MET
    codes = [i.code for i in clan.all_indicators()]
    assert codes == ["DH.1.1", "DH.1.2", "DH.2.1", "DH.2.2", "DH.2.3", "DH.3.1", "DH.3.2"]
    assert {i.scoring.kind for i in clan.all_indicators()} == {ScoringKind.PASS_FAIL}
    assert "Framework to be confirmed locally" in clan.status_note
    assert (clan.years.from_, clan.years.to) == (2022, 2030)


@pytest.mark.parametrize("path", [FAMILY, CLAN], ids=["family", "clan"])
def test_every_shipped_indicator_has_nfc_texts_and_an_evidence_hint(path):
    criteria_set = load_criteria_file(path)
    prefix = {ModelKind.FAMILY: "GD.", ModelKind.CLAN: "DH."}[criteria_set.model_kind]
    for indicator in criteria_set.all_indicators():
        assert indicator.code.startswith(prefix)
        assert indicator.evidence_hint is not None, indicator.code
        for text in (indicator.text, indicator.evidence_hint):
            assert text.vi and text.en, indicator.code
            assert unicodedata.is_normalized("NFC", text.vi)
    assert any(i.evidence_required for i in criteria_set.all_indicators())


def test_texts_typed_in_nfd_are_stored_in_nfc(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Tiêu chí một")
    assert decomposed != "Tiêu chí một"
    criteria_set = load_criteria_file(write(tmp_path, SMALL.replace("Tiêu chí một", decomposed)))
    assert criteria_set.criterion("A.1").title.vi == "Tiêu chí một"


# -- evaluation ----------------------------------------------------------------------------


def test_points_rule_passes_at_the_threshold_and_fails_one_point_below():
    small = parse_criteria(SMALL.encode(), "small.yaml")
    at = evaluate(small, {"A.1.1": 10, "A.1.2": 15, "A.2.1": 15})
    assert (at.passed, at.total_points, at.max_points, at.threshold) == (True, 40, 60, 40)
    assert [(c.code, c.points, c.max_points) for c in at.criteria] == [
        ("A.1", 25, 30),
        ("A.2", 15, 30),
    ]
    assert at.unmet_indicators == ("A.1.2", "A.2.1")  # below full marks
    below = evaluate(small, {"A.1.1": 10, "A.1.2": 14, "A.2.1": 15})
    assert (below.passed, below.total_points, below.failed_floors) == (False, 39, ())


def test_a_floor_fails_a_set_whose_total_is_enough():
    small = parse_criteria(SMALL.encode(), "small.yaml")
    result = evaluate(small, {"A.1.1": 10, "A.1.2": 20, "A.2.1": 14})
    assert result.total_points == 44 >= result.threshold
    assert result.passed is False
    assert result.failed_floors == ("A.2",)
    a2 = result.criteria[1]
    assert (a2.points, a2.floor, a2.floor_met) == (14, 15, False)
    at_floor = evaluate(small, {"A.1.1": 10, "A.1.2": 20, "A.2.1": 15})
    assert (at_floor.passed, at_floor.failed_floors) == (True, ())


def test_the_family_default_passes_with_80_points():
    family = load_criteria_file(FAMILY)
    full = {i.code: i.max_points for i in family.all_indicators()}
    assert evaluate(family, full).total_points == 100
    eighty = full | {"GD.2.1": 0, "GD.2.2": 10, "GD.2.3": 0}
    assert (evaluate(family, eighty).passed, evaluate(family, eighty).total_points) == (True, 80)
    assert evaluate(family, eighty | {"GD.4.2": 9}).passed is False


def test_all_met_rule_fails_on_one_unmet_or_unanswered_indicator():
    clan = load_criteria_file(CLAN)
    yes = {i.code: True for i in clan.all_indicators()}
    assert evaluate(clan, yes).passed is True
    one_no = evaluate(clan, yes | {"DH.2.2": False})
    assert (one_no.passed, one_no.unmet_indicators, one_no.unanswered) == (False, ("DH.2.2",), ())
    missing = dict(yes)
    del missing["DH.3.1"]
    result = evaluate(clan, missing)
    assert (result.passed, result.unmet_indicators, result.unanswered) == (
        False,
        ("DH.3.1",),
        ("DH.3.1",),
    )
    assert result.total_points == 0 and result.threshold is None


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"A.9.9": 1}, "no such indicator in test-family: A.9.9"),
        ({"A.1.1": True}, "A.1.1 is scored: answer 0 to 10"),
        ({"A.1.1": 11}, "A.1.1: 11 points is outside 0 to 10"),
        ({"A.1.1": -1}, "A.1.1: -1 points is outside 0 to 10"),
    ],
)
def test_answers_that_do_not_fit_the_set_are_refused(answers, message):
    small = parse_criteria(SMALL.encode(), "small.yaml")
    with pytest.raises(AnswerError) as caught:
        evaluate(small, answers)
    assert str(caught.value) == message


def test_a_pass_fail_indicator_takes_only_true_or_false():
    clan = load_criteria_file(CLAN)
    with pytest.raises(AnswerError, match=r"DH\.1\.1 is pass/fail"):
        evaluate(clan, {"DH.1.1": 1})


# -- broken files --------------------------------------------------------------------------


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    text = SMALL.replace("title: {vi: Tiêu chí hai}", "title: {vi: Tiêu chí hai")
    path, error = broken(tmp_path, text)
    assert str(error).startswith(f"{path}, line ")
    assert "YAML syntax:" in str(error)
    assert error.problems[0].line >= line_of(text, "title: {vi: Tiêu chí hai")


def test_an_indicator_with_the_wrong_code_prefix_is_named_by_line_and_place(tmp_path):
    text = SMALL.replace("- code: A.2.1", "- code: A.3.1")
    path, error = broken(tmp_path, text)
    assert line_of(text, "- code: A.3.1") == 21
    assert str(error) == (
        f"{path}, line 21: criteria[1].indicators[0].code: indicator code 'A.3.1' does not"
        " start with its criterion's code 'A.2.'"
    )


def test_a_threshold_above_the_points_available_is_named(tmp_path):
    text = SMALL.replace("threshold: 40", "threshold: 61")
    path, error = broken(tmp_path, text)
    assert str(error) == (
        f"{path}, line {line_of(text, 'threshold: 61')}: pass_rule.threshold:"
        " threshold 61 is above the 60 points available"
    )


@pytest.mark.parametrize(
    ("old", "new", "place", "message", "line"),
    [
        (
            "scoring: {kind: points, max_points: 20}",
            "scoring: {kind: points}",
            "criteria[0].indicators[1].scoring.max_points",
            "a points indicator needs max_points",
            16,  # the line of `scoring:`, as max_points is missing
        ),
        (
            "scoring: {kind: points, max_points: 30}",
            "scoring: {kind: pass_fail}",
            "criteria[1].indicators[0].scoring.kind",
            "pass_rule is points, so every indicator must be scored points; A.2.1 is pass_fail",
            23,
        ),
        (
            "floors: {A.2: 15}",
            "floors: {A.2: 31}",
            "pass_rule.floors.A.2",
            "floor 31 for A.2 is above its 30 points",
            25,
        ),
        (
            "floors: {A.2: 15}",
            "floors: {A.7: 1}",
            "pass_rule.floors.A.7",
            "floor for 'A.7', which is not a criterion of this set (criteria: A.1, A.2)",
            25,
        ),
        (
            "- code: A.1.2",
            "- code: A.1.1",
            "criteria[0].indicators[1].code",
            "code 'A.1.1' is used twice (first at criteria[0].indicators[0].code)",
            14,
        ),
        (
            "years: {from: 2026, to: 2027}",
            "years: {from: 2026, to: 2025}",
            "years.to",
            "the last year 2025 is before the first 2026",
            5,
        ),
        (
            "text: {vi: Chỉ tiêu ba}",
            "text: {vi: '   '}",
            "criteria[1].indicators[0].text.vi",
            "must not be empty",
            22,
        ),
        (
            "model_kind: family",
            "model_kind: village",
            "model_kind",
            "Input should be 'family', 'clan', 'community' or 'unit'",
            3,
        ),
        (
            "        evidence_required: false\n  - code: A.2",
            "        evidence_required: true\n  - code: A.2",
            "criteria[0].indicators[1].evidence_hint",
            "evidence is required, so say what to send in evidence_hint",
            14,
        ),
    ],
    ids=[
        "points-without-max",
        "pass-fail-under-points-rule",
        "floor-above-max",
        "floor-for-unknown-criterion",
        "duplicate-code",
        "years-reversed",
        "empty-vi-text",
        "unknown-model-kind",
        "required-evidence-without-hint",
    ],
)
def test_each_broken_rule_is_named_by_place_and_problem(tmp_path, old, new, place, message, line):
    assert old in SMALL
    path, error = broken(tmp_path, SMALL.replace(old, new, 1))
    assert str(error) == f"{path}, line {line}: {place}: {message}"


def test_a_misspelt_key_and_a_duplicate_key_are_refused(tmp_path):
    text = SMALL.replace("evidence_required: false", "evidence_requird: false", 1)
    _, error = broken(tmp_path, text)
    places = {(p.place, p.message) for p in error.problems}
    assert ("criteria[0].indicators[0].evidence_requird", "Extra inputs are not permitted") in (
        places
    )
    assert ("criteria[0].indicators[0].evidence_required", "Field required") in places
    assert "(and 1 more problem)" in str(error)

    twice = SMALL.replace("model_kind: family", "model_kind: family\nmodel_kind: clan")
    _, error = broken(tmp_path, twice)
    assert "line 4: YAML syntax: the key 'model_kind' is written twice" in str(error)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CriteriaFileError, match=r"khong-co\.yaml: No such file"):
        load_criteria_file(tmp_path / "khong-co.yaml")


# -- storing and activating ----------------------------------------------------------------


async def test_store_is_idempotent_and_get_returns_the_same_set(storage, tmp_path):
    small = load_criteria_file(write(tmp_path, SMALL))
    first = await storage.criteria.store(small, "a" * 64)
    again = await storage.criteria.store(small, "b" * 64)
    assert first == again
    assert first.startswith("test-family@") and len(first) == len("test-family@") + 16
    stored = await storage.criteria.get(first)
    assert stored.criteria_set == small
    assert stored.source_sha256 == "a" * 64
    assert await storage.criteria.get("test-family@0000") is None
    rows = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM criteria_sets")
    assert rows[0][0] == 1


async def test_in_force_falls_back_to_the_shipped_default_and_stores_it(storage):
    family = await storage.criteria.in_force("01", 2026, ModelKind.FAMILY)
    clan = await storage.criteria.in_force("01", 2026, ModelKind.CLAN)
    assert family.criteria_set.id == "hkhvn-448-family"
    assert clan.criteria_set.id == "hkhvn-2022-clan"
    assert family.set_id.startswith("hkhvn-448-family@")
    assert (await storage.criteria.get(family.set_id)).criteria_set == family.criteria_set
    later = await storage.criteria.in_force("01", 2040, ModelKind.CLAN)  # newest clan default
    assert later.set_id == clan.set_id
    with pytest.raises(CriteriaError, match="no criteria set for community"):
        await storage.criteria.in_force("01", 2026, ModelKind.COMMUNITY)


async def test_activation_changes_only_that_province_and_year(storage, tmp_path):
    default = await storage.criteria.in_force("01", 2026, ModelKind.FAMILY)
    small = load_criteria_file(write(tmp_path, SMALL))
    set_id = await storage.criteria.store(small, "c" * 64)
    assert await storage.criteria.activate(set_id, "01", 2026) is None
    assert (await storage.criteria.in_force("01", 2026, ModelKind.FAMILY)).set_id == set_id
    assert (await storage.criteria.in_force("01", 2027, ModelKind.FAMILY)).set_id == default.set_id
    assert (await storage.criteria.in_force("79", 2026, ModelKind.FAMILY)).set_id == default.set_id
    assert (await storage.criteria.in_force("01", 2026, ModelKind.CLAN)).criteria_set.id == (
        "hkhvn-2022-clan"
    )


async def test_a_newer_activation_replaces_the_older_but_get_keeps_the_old_set(storage, tmp_path):
    old = load_criteria_file(write(tmp_path, SMALL))
    new = load_criteria_file(write(tmp_path, SMALL.replace("threshold: 40", "threshold: 50")))
    old_id = await storage.criteria.store(old, "d" * 64)
    new_id = await storage.criteria.store(new, "e" * 64)
    assert old_id != new_id and old_id.split("@")[0] == new_id.split("@")[0] == "test-family"
    await storage.criteria.activate(old_id, "01", 2026)
    assert await storage.criteria.activate(new_id, "01", 2026) == old_id
    in_force = await storage.criteria.in_force("01", 2026, ModelKind.FAMILY)
    assert (in_force.set_id, in_force.criteria_set.pass_rule.threshold) == (new_id, 50)
    kept = await storage.criteria.get(old_id)
    assert kept.criteria_set.pass_rule.threshold == 40
    rows = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM criteria_activations")
    assert rows[0][0] == 1


async def test_activation_refuses_unknown_province_set_or_year(storage, tmp_path):
    set_id = await storage.criteria.store(load_criteria_file(write(tmp_path, SMALL)), "f" * 64)
    with pytest.raises(CriteriaError, match="unknown province code '99'"):
        await storage.criteria.activate(set_id, "99", 2026)
    with pytest.raises(CriteriaError, match="is for the years 2026–2027, not 2030"):
        await storage.criteria.activate(set_id, "01", 2030)
    with pytest.raises(CriteriaError, match="no stored criteria set"):
        await storage.criteria.activate("nothing@0", "01", 2026)


async def test_a_stored_set_cannot_be_changed_or_deleted(storage, tmp_path):
    set_id = await storage.criteria.store(load_criteria_file(write(tmp_path, SMALL)), "0" * 64)
    with pytest.raises(sqlite3.IntegrityError, match="never changes"):
        await storage.db.write("UPDATE criteria_sets SET body = '{}' WHERE id = ?", (set_id,))
    with pytest.raises(sqlite3.IntegrityError, match="never changes"):
        await storage.db.write("DELETE FROM criteria_sets WHERE id = ?", (set_id,))


# -- the command line ----------------------------------------------------------------------


def test_cli_validate_prints_ok_or_the_one_line_error(run_cli, tmp_path):
    ok = run_cli("criteria", "validate", str(FAMILY))
    assert (ok.returncode, ok.stdout) == (0, "OK: hkhvn-448-family, 4 criteria, 10 indicators\n")
    clan = run_cli("criteria", "validate", str(CLAN))
    assert clan.stdout == "OK: hkhvn-2022-clan, 3 criteria, 7 indicators\n"
    path = write(tmp_path, SMALL.replace("threshold: 40", "threshold: 61"))
    bad = run_cli("criteria", "validate", str(path))
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == (
        f"error: {path}, line 25: pass_rule.threshold: threshold 61 is above the 60 points"
        " available\n"
    )


async def test_cli_activate_changes_in_force_and_a_broken_file_changes_nothing(
    run_cli, cli_env, tmp_path
):
    assert run_cli("init-db").returncode == 0
    good = write(tmp_path, SMALL, "good.yaml")
    done = run_cli("criteria", "activate", str(good), "--province", "01", "--year", "2026")
    assert done.returncode == 0, done.stderr
    assert "for family in Thành phố Hà Nội (01), 2026" in done.stdout

    text = SMALL.replace("- code: A.2.1", "- code: A.3.1").replace("threshold: 40", "threshold: 45")
    bad = write(tmp_path, text, "bad.yaml")
    refused = run_cli("criteria", "activate", str(bad), "--province", "01", "--year", "2026")
    assert refused.returncode == 2
    assert refused.stderr == (
        f"error: {bad}, line 21: criteria[1].indicators[0].code: indicator code 'A.3.1' does"
        " not start with its criterion's code 'A.2.'\n"
    )

    storage = await Storage.open(cli_env["HOCTAP_DB_PATH"])
    try:
        in_force = await storage.criteria.in_force("01", 2026, ModelKind.FAMILY)
        assert in_force.criteria_set.id == "test-family"
        assert in_force.criteria_set.pass_rule.threshold == 40
        assert (await storage.criteria.in_force("02", 2026, ModelKind.FAMILY)).criteria_set.id == (
            "hkhvn-448-family"
        )
        [entry] = await storage.audit.entries("criteria.activated")
        assert entry.subject_id == in_force.set_id
        assert entry.after["province_code"] == "01" and entry.after["year"] == 2026
        assert entry.before is None
        rows = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM criteria_sets")
        assert rows[0][0] == 2  # the activated set and the family default just used
    finally:
        await storage.close()


def test_cli_activate_refuses_an_unknown_province_or_a_year_outside_the_set(run_cli, tmp_path):
    assert run_cli("init-db").returncode == 0
    good = write(tmp_path, SMALL)
    unknown = run_cli("criteria", "activate", str(good), "--province", "99", "--year", "2026")
    assert unknown.returncode == 2
    assert "unknown province code '99'" in unknown.stderr
    too_late = run_cli("criteria", "activate", str(good), "--province", "01", "--year", "2031")
    assert too_late.returncode == 2
    assert too_late.stderr == "error: test-family is for the years 2026–2027, not 2031\n"


def test_a_short_name_longer_than_a_button_is_named(tmp_path):
    text = SMALL.replace(
        "      - code: A.1.1\n",
        "      - code: A.1.1\n        short: {vi: " + "Chữ" * 11 + "}\n",
    )
    _path, error = broken(tmp_path, text)
    assert "short.vi: 33 characters; a short name has at most 32" in str(error)


@pytest.mark.parametrize("path", [FAMILY, CLAN], ids=["family", "clan"])
def test_shown_texts_carry_no_drafting_note(path):
    for indicator in load_criteria_file(path).all_indicators():
        assert indicator.short is not None, indicator.code
        for text in (indicator.short, indicator.text, indicator.evidence_hint):
            for value in (text.vi, text.en):
                for note in ("tạm đặt", "xác nhận)", "đối chiếu", "placeholder", "to be confirmed"):
                    assert note not in value.lower(), (indicator.code, value)
