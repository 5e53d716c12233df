"""Criteria sets (bộ tiêu chí): the models, the YAML loader, and evaluation.

A criteria set lists the criteria (tiêu chí) of one learning model, each with its indicators
(chỉ tiêu), and the rule that decides whether a family or clan passes. Sets are data, written in
YAML so that a province's staff can edit them by hand; `load_criteria_file` validates a file and
reports the first problems by file, line, place and problem. Nothing here touches the database:
`storage.criteria_repo` stores, activates and finds the set in force.
"""

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from yaml.constructor import ConstructorError

from storage.text import nfc

# Passed as validation context when re-reading a stored set: the rules below may grow stricter
# over the years, but a set that a registration recorded must still load exactly as it was.
STORED = {"stored": True}


class ModelKind(StrEnum):
    FAMILY = "family"  # Gia đình học tập
    CLAN = "clan"  # Dòng họ học tập
    COMMUNITY = "community"  # Cộng đồng học tập (thôn)
    UNIT = "unit"  # Đơn vị học tập


class ScoringKind(StrEnum):
    PASS_FAIL = "pass_fail"
    POINTS = "points"


class PassRuleKind(StrEnum):
    POINTS = "points"
    ALL_MET = "all_met"


class SourceStatus(StrEnum):
    """How far a criterion or indicator was checked against its published source."""

    CONFIRMED = "confirmed"
    PARTIAL = "partial"
    UNCONFIRMED = "unconfirmed"


class PlaceError(ValueError):
    """A rule broken at `loc`, relative to the model whose validator raised it."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _not_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def _code_shape(value: str) -> str:
    if not value or any(c.isspace() for c in value) or "@" in value:
        raise ValueError(f"{value!r} is not a code: letters, digits and dots, no spaces")
    return value


Text = Annotated[str, AfterValidator(nfc)]
RequiredText = Annotated[str, AfterValidator(nfc), AfterValidator(_not_empty)]
Code = Annotated[str, AfterValidator(nfc), AfterValidator(_code_shape)]


def _semantic(info: ValidationInfo) -> bool:
    return not (info.context or {}).get("stored")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalText(_Strict):
    """Vietnamese text, required, and its English translation."""

    vi: RequiredText
    en: Text = ""

    def get(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.vi


class Years(_Strict):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: int = Field(alias="from", ge=2000, le=2100)
    to: int = Field(ge=2000, le=2100)

    @model_validator(mode="after")
    def _ordered(self, info: ValidationInfo) -> "Years":
        if _semantic(info) and self.from_ > self.to:
            raise PlaceError(("to",), f"the last year {self.to} is before the first {self.from_}")
        return self

    def covers(self, year: int) -> bool:
        return self.from_ <= year <= self.to

    def __str__(self) -> str:
        return f"{self.from_}–{self.to}"


class Scoring(_Strict):
    kind: ScoringKind
    max_points: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="after")
    def _points_need_max(self, info: ValidationInfo) -> "Scoring":
        if not _semantic(info):
            return self
        if self.kind is ScoringKind.POINTS and self.max_points is None:
            raise PlaceError(("max_points",), "a points indicator needs max_points")
        if self.kind is ScoringKind.PASS_FAIL and self.max_points is not None:
            raise PlaceError(("max_points",), "a pass_fail indicator has no max_points")
        return self


MAX_SHORT = 32  # characters of an indicator's short name: it goes on a phone's button


class Indicator(_Strict):
    """A chỉ tiêu: met or not (pass_fail), or scored from 0 to max_points.

    `short` is what buttons and lists show instead of the code. `note` (like `source` and
    YAML comments) is for whoever edits the set: drafting and sourcing notes are never shown.
    """

    code: Code
    short: LocalText | None = None
    text: LocalText
    scoring: Scoring
    evidence_hint: LocalText | None = None
    evidence_required: bool
    source_status: SourceStatus = SourceStatus.UNCONFIRMED
    source: Text = ""
    note: Text = ""

    @model_validator(mode="after")
    def _short_fits_a_button(self, info: ValidationInfo) -> "Indicator":
        if _semantic(info) and self.short is not None:
            for locale in ("vi", "en"):
                value = getattr(self.short, locale)
                if len(value) > MAX_SHORT:
                    raise PlaceError(
                        ("short", locale),
                        f"{len(value)} characters; a short name has at most {MAX_SHORT}",
                    )
        return self

    @model_validator(mode="after")
    def _hint_for_required_evidence(self, info: ValidationInfo) -> "Indicator":
        if _semantic(info) and self.evidence_required and self.evidence_hint is None:
            raise PlaceError(
                ("evidence_hint",), "evidence is required, so say what to send in evidence_hint"
            )
        return self

    @property
    def max_points(self) -> int:
        return self.scoring.max_points or 0


class Criterion(_Strict):
    """A tiêu chí and its indicators, whose codes start with the criterion's code and a dot."""

    code: Code
    title: LocalText
    indicators: list[Indicator] = Field(min_length=1)
    source_status: SourceStatus = SourceStatus.UNCONFIRMED
    source: Text = ""

    @model_validator(mode="after")
    def _indicator_prefix(self, info: ValidationInfo) -> "Criterion":
        if not _semantic(info):
            return self
        for index, indicator in enumerate(self.indicators):
            if not indicator.code.startswith(self.code + "."):
                raise PlaceError(
                    ("indicators", index, "code"),
                    f"indicator code {indicator.code!r} does not start with its criterion's"
                    f" code {self.code + '.'!r}",
                )
        return self

    @property
    def max_points(self) -> int:
        return sum(indicator.max_points for indicator in self.indicators)


class PassRule(_Strict):
    """`points`: total ≥ threshold and each floored criterion ≥ its floor; `all_met`: every
    indicator met."""

    kind: PassRuleKind
    threshold: int | None = Field(default=None, ge=0)
    floors: dict[Code, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fields_for_kind(self, info: ValidationInfo) -> "PassRule":
        if not _semantic(info):
            return self
        if self.kind is PassRuleKind.POINTS and self.threshold is None:
            raise PlaceError(("threshold",), "a points rule needs a threshold")
        if self.kind is PassRuleKind.ALL_MET and self.threshold is not None:
            raise PlaceError(("threshold",), "an all_met rule has no threshold")
        if self.kind is PassRuleKind.ALL_MET and self.floors:
            raise PlaceError(("floors",), "an all_met rule has no floors")
        return self


class CriteriaSet(_Strict):
    id: Annotated[str, AfterValidator(nfc), AfterValidator(_code_shape)]
    title: LocalText
    model_kind: ModelKind
    legal_basis: RequiredText
    years: Years
    status_note: Text = ""
    sources: tuple[Text, ...] = ()
    criteria: list[Criterion] = Field(min_length=1)
    pass_rule: PassRule

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> "CriteriaSet":
        if _semantic(info):
            self._check_unique_codes()
            self._check_pass_rule()
        return self

    def _check_unique_codes(self) -> None:
        seen: dict[str, str] = {}
        for i, criterion in enumerate(self.criteria):
            places = [((i, "code"), criterion.code)] + [
                ((i, "indicators", j, "code"), indicator.code)
                for j, indicator in enumerate(criterion.indicators)
            ]
            for loc, code in places:
                place = render_place(("criteria", *loc))
                if code in seen:
                    raise PlaceError(
                        ("criteria", *loc), f"code {code!r} is used twice (first at {seen[code]})"
                    )
                seen[code] = place

    def _check_pass_rule(self) -> None:
        rule = self.pass_rule
        wanted = ScoringKind.POINTS if rule.kind is PassRuleKind.POINTS else ScoringKind.PASS_FAIL
        for i, criterion in enumerate(self.criteria):
            for j, indicator in enumerate(criterion.indicators):
                if indicator.scoring.kind is not wanted:
                    raise PlaceError(
                        ("criteria", i, "indicators", j, "scoring", "kind"),
                        f"pass_rule is {rule.kind.value}, so every indicator must be scored"
                        f" {wanted.value}; {indicator.code} is {indicator.scoring.kind.value}",
                    )
        if rule.kind is not PassRuleKind.POINTS:
            return
        if rule.threshold > self.max_points:
            raise PlaceError(
                ("pass_rule", "threshold"),
                f"threshold {rule.threshold} is above the {self.max_points} points available",
            )
        by_code = {criterion.code: criterion for criterion in self.criteria}
        for code, floor in rule.floors.items():
            criterion = by_code.get(code)
            if criterion is None:
                raise PlaceError(
                    ("pass_rule", "floors", code),
                    f"floor for {code!r}, which is not a criterion of this set"
                    f" (criteria: {', '.join(by_code)})",
                )
            if floor > criterion.max_points:
                raise PlaceError(
                    ("pass_rule", "floors", code),
                    f"floor {floor} for {code} is above its {criterion.max_points} points",
                )

    @property
    def max_points(self) -> int:
        return sum(criterion.max_points for criterion in self.criteria)

    def all_indicators(self) -> list[Indicator]:
        return [indicator for criterion in self.criteria for indicator in criterion.indicators]

    def indicator(self, code: str) -> Indicator:
        """The indicator with this code; KeyError if there is none."""
        for indicator in self.all_indicators():
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    def criterion(self, code: str) -> Criterion:
        """The criterion with this code; KeyError if there is none."""
        for criterion in self.criteria:
            if criterion.code == code:
                return criterion
        raise KeyError(code)

    def body_json(self) -> str:
        """The set as JSON, keys as written in YAML (`from`, not `from_`)."""
        return self.model_dump_json(by_alias=True)

    def content_sha256(self) -> str:
        return hashlib.sha256(self.body_json().encode("utf-8")).hexdigest()


# -- evaluation ----------------------------------------------------------------------------


class AnswerError(ValueError):
    """An answer that does not fit the set: unknown code, wrong type, points out of range."""


class IndicatorResult(_Strict):
    code: str
    kind: ScoringKind
    answered: bool
    met: bool  # pass_fail: answered yes; points: full marks
    points: int
    max_points: int


class CriterionResult(_Strict):
    code: str
    points: int
    max_points: int
    floor: int | None
    floor_met: bool
    indicators: tuple[IndicatorResult, ...]


class Evaluation(_Strict):
    """The result and how it was reached, criterion by criterion."""

    set_id: str
    rule: PassRuleKind
    passed: bool
    total_points: int
    max_points: int
    threshold: int | None
    criteria: tuple[CriterionResult, ...]
    failed_floors: tuple[str, ...]  # criterion codes below their floor
    unmet_indicators: tuple[str, ...]  # pass_fail not met, or points below full marks
    unanswered: tuple[str, ...]  # counted as not met / 0 points


def evaluate(criteria_set: CriteriaSet, answers: dict[str, bool | int]) -> Evaluation:
    """Apply the set's pass rule to answers keyed by indicator code.

    pass_fail indicators take True/False, points indicators an int from 0 to max_points.
    A missing answer counts as not met (0 points) and is listed in `unanswered`.
    """
    known = {indicator.code for indicator in criteria_set.all_indicators()}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise AnswerError(f"no such indicator in {criteria_set.id}: {', '.join(unknown)}")
    rule = criteria_set.pass_rule
    results = []
    for criterion in criteria_set.criteria:
        indicators = tuple(_indicator_result(i, answers.get(i.code)) for i in criterion.indicators)
        points = sum(result.points for result in indicators)
        floor = rule.floors.get(criterion.code)
        results.append(
            CriterionResult(
                code=criterion.code,
                points=points,
                max_points=criterion.max_points,
                floor=floor,
                floor_met=floor is None or points >= floor,
                indicators=indicators,
            )
        )
    every = [indicator for result in results for indicator in result.indicators]
    total = sum(result.points for result in results)
    failed_floors = tuple(result.code for result in results if not result.floor_met)
    unmet = tuple(indicator.code for indicator in every if not indicator.met)
    if rule.kind is PassRuleKind.POINTS:
        passed = total >= rule.threshold and not failed_floors
    else:
        passed = not unmet
    return Evaluation(
        set_id=criteria_set.id,
        rule=rule.kind,
        passed=passed,
        total_points=total,
        max_points=criteria_set.max_points,
        threshold=rule.threshold,
        criteria=tuple(results),
        failed_floors=failed_floors,
        unmet_indicators=unmet,
        unanswered=tuple(indicator.code for indicator in every if not indicator.answered),
    )


def _indicator_result(indicator: Indicator, answer: bool | int | None) -> IndicatorResult:
    kind = indicator.scoring.kind
    if kind is ScoringKind.PASS_FAIL:
        if answer is not None and not isinstance(answer, bool):
            raise AnswerError(f"{indicator.code} is pass/fail: answer True or False")
        met, points = answer is True, 0
    else:
        if answer is not None and (isinstance(answer, bool) or not isinstance(answer, int)):
            raise AnswerError(f"{indicator.code} is scored: answer 0 to {indicator.max_points}")
        points = answer or 0
        if not 0 <= points <= indicator.max_points:
            raise AnswerError(
                f"{indicator.code}: {points} points is outside 0 to {indicator.max_points}"
            )
        met = points == indicator.max_points
    return IndicatorResult(
        code=indicator.code,
        kind=kind,
        answered=answer is not None,
        met=met,
        points=points,
        max_points=indicator.max_points,
    )


# -- loading from YAML ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    place: str  # e.g. criteria[2].indicators[0].scoring; "" for the file as a whole
    line: int | None
    message: str

    def render(self, source: str) -> str:
        where = source if self.line is None else f"{source}, line {self.line}"
        place = f"{self.place}: " if self.place else ""
        return f"{where}: {place}{self.message}"


class CriteriaFileError(Exception):
    """A criteria file that cannot be used. `str()` is one line: file, line, place, problem."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        first = problems[0].render(source)
        more = len(problems) - 1
        super().__init__(first + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))

    def lines(self) -> list[str]:
        return [problem.render(self.source) for problem in self.problems]


@dataclass(frozen=True)
class LoadedSet:
    criteria_set: CriteriaSet
    source_sha256: str


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue
            if key in seen:
                raise ConstructorError(
                    None, None, f"the key {key!r} is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def render_place(loc: tuple[str | int, ...]) -> str:
    """('criteria', 2, 'indicators', 0, 'scoring') → 'criteria[2].indicators[0].scoring'."""
    place = ""
    for part in loc:
        place += f"[{part}]" if isinstance(part, int) else (f".{part}" if place else str(part))
    return place


def _line_of(root: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The line of the deepest YAML node that `loc` reaches (1-based)."""
    if root is None:
        return None
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    node, line = value_node, key_node.start_mark.line + 1
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _problems(error: ValidationError, root: yaml.Node | None) -> list[Problem]:
    problems = []
    for detail in error.errors():
        loc = tuple(detail["loc"])
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, PlaceError):
            loc += cause.loc
        message = str(cause) if isinstance(cause, Exception) else detail["msg"]
        problems.append(Problem(render_place(loc), _line_of(root, loc), message))
    return problems


def parse_criteria(data: bytes, source: str) -> CriteriaSet:
    """Validate YAML bytes as a criteria set; CriteriaFileError names `source` in its message."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CriteriaFileError(source, [Problem("", line, "not UTF-8 text")]) from None
    try:
        content = yaml.load(text, Loader=_UniqueKeyLoader)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = "YAML syntax: " + (error.problem or error.context or "unreadable")
        line = mark.line + 1 if mark else None
        raise CriteriaFileError(source, [Problem("", line, message)]) from None
    except yaml.YAMLError as error:
        raise CriteriaFileError(source, [Problem("", None, f"YAML: {error}")]) from None
    if not isinstance(content, dict):
        raise CriteriaFileError(
            source, [Problem("", 1, "expected a criteria set: keys id, title, criteria, …")]
        )
    try:
        return CriteriaSet.model_validate(content)
    except ValidationError as error:
        raise CriteriaFileError(source, _problems(error, root)) from None


def load_criteria_file(path: str | Path) -> CriteriaSet:
    """Read and validate a criteria file; CriteriaFileError names the file, line and place."""
    return read_criteria_file(path).criteria_set


def read_criteria_file(path: str | Path) -> LoadedSet:
    """The validated set and the SHA-256 of the file as read."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        problem = Problem("", None, error.strerror or str(error))
        raise CriteriaFileError(str(path), [problem]) from None
    return LoadedSet(parse_criteria(data, str(path)), hashlib.sha256(data).hexdigest())


# -- the sets shipped with the package -----------------------------------------------------


@cache
def shipped_sets() -> tuple[LoadedSet, ...]:
    """The default sets in storage/criteria_sets/*.yaml, validated."""
    folder = resources.files("storage") / "criteria_sets"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = entry.read_bytes()
            found.append(
                LoadedSet(
                    parse_criteria(data, f"storage/criteria_sets/{entry.name}"),
                    hashlib.sha256(data).hexdigest(),
                )
            )
    return tuple(found)


def shipped_default(model_kind: ModelKind, year: int) -> LoadedSet | None:
    """The shipped set of this kind whose years cover `year`, else the newest of that kind."""
    of_kind = [s for s in shipped_sets() if s.criteria_set.model_kind is model_kind]
    covering = [s for s in of_kind if s.criteria_set.years.covers(year)]
    candidates = covering or of_kind
    if not candidates:
        return None
    return max(candidates, key=lambda s: (s.criteria_set.years.to, s.criteria_set.years.from_))
