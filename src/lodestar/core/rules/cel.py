"""CEL expressions through ``cel-expr-python``, type-checked against the playbook's names.

Names an exit-criterion expression can use (``fields.*`` come from the playbook):

==============================  ===========================================================
``deal.stage`` … ``deal.status``  string; ``deal.amount`` double; ``deal.expected_close_date``,
                                ``deal.stage_entered_at`` timestamp; ``deal.hours_in_stage``
                                double
``account.industry`` ``.tier``   string; ``account.repurchase_rate`` double
``fields.<key>``                text/choice/contact_role → string, number/money → double,
                                date → timestamp (00:00 UTC), boolean → bool,
                                multi_choice → list(string)
``contacts``                    list of maps: name, title, role, is_decision_maker, attended
``attachments``                 list of maps: kind, content_type, text_length, uploaded_at
                                (RFC 3339 text), age_hours
``events``                      list of maps: type, occurred_at (RFC 3339 text), age_hours,
                                payload (map)
``now``                         timestamp
==============================  ===========================================================

A field that is not set is absent: an expression reading it evaluates to a CEL error, which we
report as "cannot tell — X not set" (unmet), never as met.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_math, ext_strings

from lodestar.core.playbook.errors import Issue, Path
from lodestar.core.rules.compiled import Evaluate, Test
from lodestar.core.rules.context import DealContext
from lodestar.core.rules.results import Bilingual, CriterionResult
from lodestar.core.rules.scope import RuleScope, did_you_mean

__all__ = ["FORECAST_NAMES", "ITEM_KEYS", "CelRuntime", "cel_problems"]

_T = cel.Type
_CEL_TYPE_OF_FIELD: Mapping[str, Any] = {
    "text": _T.STRING,
    "choice": _T.STRING,
    "contact_role": _T.STRING,
    "number": _T.DOUBLE,
    "money": _T.DOUBLE,
    "date": _T.TIMESTAMP,
    "boolean": _T.BOOL,
    "multi_choice": _T.List(_T.STRING),
}
_ITEMS = _T.List(_T.Map(_T.STRING, _T.DYN))
_BASE_VARIABLES: Mapping[str, Any] = {
    "deal.stage": _T.STRING,
    "deal.amount": _T.DOUBLE,
    "deal.currency": _T.STRING,
    "deal.status": _T.STRING,
    "deal.expected_close_date": _T.TIMESTAMP,
    "deal.stage_entered_at": _T.TIMESTAMP,
    "deal.hours_in_stage": _T.DOUBLE,
    "account.industry": _T.STRING,
    "account.tier": _T.STRING,
    "account.repurchase_rate": _T.DOUBLE,
    "contacts": _ITEMS,
    "attachments": _ITEMS,
    "events": _ITEMS,
    "now": _T.TIMESTAMP,
}
#: Keys of the maps in ``contacts``, ``attachments`` and ``events``.
ITEM_KEYS: frozenset[str] = frozenset(
    {
        "name",
        "title",
        "role",
        "is_decision_maker",
        "attended",
        "kind",
        "content_type",
        "text_length",
        "text_pending",
        "uploaded_at",
        "age_hours",
        "type",
        "occurred_at",
        "payload",
    }
)
#: Names a forecast formula can use besides number/money fields.
FORECAST_NAMES: tuple[str, ...] = (
    "repurchase_rate",
    "stage_weight",
    "stage_probability",
    "amount",
    "days_in_stage",
)
_NAMESPACES = frozenset({"deal", "account", "fields"})
_ERROR_LINE = re.compile(r"ERROR: <input>:(-?\d+):(-?\d+): (.*)")
_MISSING_NAME = re.compile(r'No value with name "([^"]+)"')
_TOKEN = re.compile(
    r"""(?P<string>[rR]?[bB]?[rR]?("{3}|'{3}|"|')) |
        (?P<number>\d+(\.\d+)?([eE][+-]?\d+)?[uU]?|0[xX][0-9a-fA-F]+[uU]?) |
        (?P<ident>[A-Za-z_][A-Za-z0-9_]*) |
        (?P<space>\s+) |
        (?P<punct>.)""",
    re.VERBOSE | re.DOTALL,
)


def _to_cel_field(field_type: str, value: Any) -> Any:
    """A custom field value as CEL sees it, or ``None`` when it does not fit the declared type
    (then it is left out and expressions reading it report it as not set)."""
    if value is None or value == "":
        return None
    if field_type in ("number", "money"):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return None
        number = float(value)
        return number if math.isfinite(number) else None
    if field_type == "date":
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else None
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return None
    if field_type == "boolean":
        return value if isinstance(value, bool) else None
    if field_type == "multi_choice":
        if isinstance(value, tuple | list | frozenset | set):
            return sorted(str(v) for v in value)
        return None
    return value if isinstance(value, str) else None


def _plain(value: Any, depth: int = 0) -> Any:
    """Payload values CEL can hold: nested maps/lists of scalars; the rest becomes text."""
    if depth > 8:
        return None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1) for v in value]
    return str(value)


def cel_problems(message: str) -> list[tuple[int, int, str]]:
    """``(line, column, message)`` for each error in a cel-expr-python compile message."""
    found: list[tuple[int, int, str]] = []
    for match in _ERROR_LINE.finditer(message):
        line, column, text = int(match[1]), int(match[2]), match[3]
        if line < 1 or "<<nil>>" in text:
            continue
        text = text.replace(" (in container '')", "").strip()
        found.append((line, column, text))
    if not found:
        text = message.split("\n", 1)[0].replace("INVALID_ARGUMENT: ", "").strip()
        text = re.sub(r"^[A-Z_]+: ", "", text).replace(" [CANCELLED]", "")
        found.append((1, 1, text or "invalid expression"))
    return found


def _offset_to_position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


class CelRuntime:
    """One CEL environment per compiled playbook: checks expressions, then evaluates them."""

    def __init__(self, scope: RuleScope) -> None:
        self.scope = scope
        variables = dict(_BASE_VARIABLES)
        self._field_types: list[tuple[str, str, str]] = []
        for field in scope.playbook.fields:
            name = f"fields.{field.key}"
            if name not in variables:
                variables[name] = _CEL_TYPE_OF_FIELD[field.type]
                self._field_types.append((field.key, name, field.type))
        self.variables: Mapping[str, Any] = variables
        self.env = cel.NewEnv(
            variables=variables, extensions=[ext_strings.ExtStrings(), ext_math.ExtMath()]
        )
        forecast_vars = {name: _T.DOUBLE for name in FORECAST_NAMES}
        for field in scope.playbook.fields:
            if field.type in ("number", "money"):
                forecast_vars.setdefault(field.key, _T.DOUBLE)
        self.forecast_variables: Mapping[str, Any] = forecast_vars
        #: Which of the item lists compiled expressions read; the others are not built.
        self.lists_used: set[str] = set()
        self.forecast_env = cel.NewEnv(variables=forecast_vars, extensions=[ext_math.ExtMath()])

    # -- checking --------------------------------------------------------------------------

    def compile_condition(self, text: str, path: Path, issues: list[Issue]) -> Any:
        """Compile an exit/trigger condition (must give a bool); ``None`` after an issue."""
        return self._compile(self.env, self.variables, text, path, issues, "BOOL", members=True)

    def compile_formula(self, text: str, path: Path, issues: list[Issue]) -> Any:
        """Compile a forecast formula (must give a double); ``None`` after an issue."""
        return self._compile(
            self.forecast_env, self.forecast_variables, text, path, issues, "DOUBLE", members=False
        )

    def _compile(
        self,
        env: Any,
        variables: Mapping[str, Any],
        text: str,
        path: Path,
        issues: list[Issue],
        want: str,
        *,
        members: bool,
    ) -> Any:
        before = len(issues)
        if members:
            self._check_members(text, path, issues)
            # A word that may name a list (even inside a string) makes us build it: harmless.
            self.lists_used.update(
                name for name in ("contacts", "attachments", "events") if name in text
            )
        try:
            expression = env.compile(text)
        except RuntimeError as exc:
            for line, column, message in cel_problems(str(exc)):
                line, column = _name_start(text, line, column, message)
                hint = _hint_for(message, variables, _literal_after(text, line, column))
                issues.append(Issue(path, message, hint, offset=(line, column)))
            return None
        except Exception as exc:  # e.g. text the binding cannot pass to C++ (lone surrogates)
            issues.append(Issue(path, f"invalid expression: {exc}".split("\n")[0], None, (1, 1)))
            return None
        result = expression.return_type().name()
        if result not in (want, "DYN"):
            wanted = "true/false" if want == "BOOL" else "a number (double)"
            issues.append(
                Issue(
                    path,
                    f"the expression gives {result.lower()}, it must give {wanted}",
                    "compare with ==, <, > … to get true/false" if want == "BOOL" else None,
                    offset=(1, 1),
                )
            )
        return expression if len(issues) == before else None

    def _check_members(self, text: str, path: Path, issues: list[Issue]) -> None:
        """Reject ``c.is_decison_maker``-style typos on list items at load time.

        Items are maps (CEL cannot type their keys), so the checker would accept any key and
        the expression would fail at every evaluation instead. Payload keys are free-form.
        """
        tokens = [
            (match.lastgroup, match.group(), match.start())
            for match in _TOKEN.finditer(text)
            if match.lastgroup != "space"
        ]
        # Strings: skip to the closing quote so their content is never read as code.
        cleaned: list[tuple[str | None, str, int]] = []
        index = 0
        position = 0
        while index < len(tokens):
            kind, value, start = tokens[index]
            if start < position:
                index += 1
                continue
            if kind == "string":
                quote = value.lstrip("rRbB")
                raw = "r" in value.lower().replace(quote, "")
                end = _string_end(text, start + len(value), quote, raw=raw)
                cleaned.append(("literal", text[start:end], start))
                position = end
            else:
                cleaned.append((kind, value, start))
                position = start + len(value)
            index += 1
        chain: list[str] = []
        for i, (kind, value, _start) in enumerate(cleaned):
            if kind == "ident":
                if i > 0 and cleaned[i - 1][1] == "." and chain:
                    continue
                chain = [value]
                continue
            if value == "." and i + 1 < len(cleaned) and cleaned[i + 1][0] == "ident":
                name, name_at = cleaned[i + 1][1], cleaned[i + 1][2]
                is_call = i + 2 < len(cleaned) and cleaned[i + 2][1] == "("
                root = chain[0] if chain else "<expr>"
                if (
                    not is_call
                    and root not in _NAMESPACES
                    and "payload" not in chain
                    and name not in ITEM_KEYS
                ):
                    issues.append(
                        Issue(
                            path,
                            f"list items have no key '{name}'",
                            did_you_mean(name, ITEM_KEYS),
                            offset=_offset_to_position(text, name_at),
                        )
                    )
                chain = [*chain, name] if chain else ["<expr>", name]
                continue
            chain = []  # after ")" or "]" a selection applies to a value: root "<expr>"

    # -- evaluating ------------------------------------------------------------------------

    def activation(self, ctx: DealContext) -> Any:
        """The CEL activation for ``ctx``, built once per context and playbook."""
        memo = ctx.memo
        found = memo.get(self)
        if found is None:
            found = self.env.Activation(self.activation_data(ctx))
            memo[self] = found
        return found

    def activation_data(self, ctx: DealContext) -> dict[str, Any]:
        deal = ctx.deal
        now = ctx.now
        data: dict[str, Any] = {
            "deal.stage": deal.stage,
            "deal.currency": deal.currency,
            "deal.status": deal.status,
            "account.industry": ctx.account.industry,
            "account.tier": ctx.account.tier,
            "now": now,
        }
        if deal.amount is not None and math.isfinite(float(deal.amount)):
            data["deal.amount"] = float(deal.amount)
        if deal.expected_close_date is not None:
            data["deal.expected_close_date"] = _to_cel_field("date", deal.expected_close_date)
        if deal.stage_entered_at is not None:
            data["deal.stage_entered_at"] = deal.stage_entered_at
            data["deal.hours_in_stage"] = (now - deal.stage_entered_at).total_seconds() / 3600
        rate = ctx.account.repurchase_rate
        if rate is not None and math.isfinite(rate):
            data["account.repurchase_rate"] = float(rate)
        fields = deal.fields
        for key, name, field_type in self._field_types:
            value = _to_cel_field(field_type, fields.get(key))
            if value is not None:
                data[name] = value
        used = self.lists_used
        data["contacts"] = (
            []
            if "contacts" not in used
            else [
                {
                    "name": c.name,
                    "title": c.title,
                    "role": c.role or "",
                    "is_decision_maker": bool(c.is_decision_maker),
                    "attended": sorted(c.attended),
                }
                for c in ctx.contacts
            ]
        )
        data["attachments"] = (
            []
            if "attachments" not in used
            else [
                {
                    "kind": a.kind,
                    "content_type": a.content_type,
                    "text_length": int(a.text_length),
                    "text_pending": bool(a.text_pending),
                    "uploaded_at": a.uploaded_at.isoformat(),
                    "age_hours": (now - a.uploaded_at).total_seconds() / 3600,
                }
                for a in ctx.attachments
            ]
        )
        data["events"] = (
            []
            if "events" not in used
            else [
                {
                    "type": e.type,
                    "occurred_at": e.occurred_at.isoformat(),
                    "age_hours": (now - e.occurred_at).total_seconds() / 3600,
                    "payload": _plain(e.payload),
                }
                for e in ctx.events
            ]
        )
        return data

    def closures(self, expression: Any, cid: str, subject: Bilingual) -> tuple[Test, Evaluate]:
        activation = self.activation
        run = expression.eval
        met = CriterionResult(
            cid, subject, True, Bilingual(f"{subject.zh}:满足", f"{subject.en}: met")
        )
        unmet = CriterionResult(
            cid, subject, False, Bilingual(f"{subject.zh}:未满足", f"{subject.en}: not met")
        )
        explain_error = self._explain_error

        def test(ctx: DealContext) -> bool:
            return run(activation(ctx)).value() is True

        def evaluate(ctx: DealContext) -> CriterionResult:
            value = run(activation(ctx))
            answer = value.value()
            if answer is True:
                return met
            if answer is False:
                return unmet
            return explain_error(cid, subject, value)

        return test, evaluate

    def _explain_error(self, cid: str, subject: Bilingual, value: Any) -> CriterionResult:
        detail = str(value.value())
        missing = _MISSING_NAME.search(detail)
        if missing is not None:
            name = missing[1]
            ref = (
                self.scope.field(name.removeprefix("fields."))
                if name.startswith("fields.")
                else None
            )
            shown = ref.name if ref is not None else Bilingual(name, name)
            text = Bilingual(
                f"{subject.zh}:无法判断,{shown.zh}未填写",
                f"{subject.en}: cannot tell — {shown.en} not set",
            )
            return CriterionResult(cid, subject, False, text, error=f"{name} not set")
        if value.type() != _T.ERROR:
            detail = f"the expression gave {value.type().name().lower()}, not true/false"
        text = Bilingual(
            f"{subject.zh}:无法判断({detail})", f"{subject.en}: cannot tell ({detail})"
        )
        return CriterionResult(cid, subject, False, text, error=detail)

    def forecast(self, expression: Any, data: Mapping[str, float]) -> float | str:
        """Evaluate a compiled formula; a float, or the error text."""
        value = expression.eval(data=dict(data))
        answer = value.value()
        if isinstance(answer, float | int) and not isinstance(answer, bool):
            return float(answer)
        return str(answer)


def _string_end(text: str, start: int, quote: str, *, raw: bool) -> int:
    index = start
    while index < len(text):
        if not raw and text[index] == "\\":
            index += 2
            continue
        if text.startswith(quote, index):
            return index + len(quote)
        if len(quote) == 1 and text[index] == "\n":
            return index
        index += 1
    return len(text)


def _position_offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return 0
    return sum(len(each) + 1 for each in lines[: line - 1]) + max(column - 1, 0)


def _name_start(text: str, line: int, column: int, message: str) -> tuple[int, int]:
    """CEL points at the last '.' of an undeclared ``deal.amunt``; point at its start."""
    undeclared = re.search(r"undeclared reference to '([^']+)'", message)
    if undeclared is None:
        return line, column
    offset = _position_offset(text, line, column)
    name = undeclared[1]
    for match in re.finditer(re.escape(name), text):
        if match.start() <= offset < match.end():
            return _offset_to_position(text, match.start())
    return line, column


_INT_LITERAL = re.compile(r"(?<![\w.])(\d+)(?![\w.])")


def _literal_after(text: str, line: int, column: int) -> str | None:
    """The whole-number literal at or after a position (for the int/double hint)."""
    match = _INT_LITERAL.search(text, _position_offset(text, line, column))
    return match[1] if match is not None else None


def _hint_for(message: str, variables: Mapping[str, Any], literal: str | None = None) -> str | None:
    undeclared = re.search(r"undeclared reference to '([^']+)'", message)
    if undeclared is not None:
        return did_you_mean(undeclared[1], variables)
    if "no matching overload" in message and "int" in message and "double" in message:
        number = literal or "100000"
        return f"CEL does not mix whole numbers and decimals: write {number}.0 instead of {number}"
    if "no matching overload" in message:
        return "the two sides have different types; compare like with like"
    if "Syntax error" in message:
        return "check brackets, quotes and operators (&&, ||, !)"
    if "recursion limit" in message:
        return "the expression nests too deeply; split it into several criteria"
    return None
