"""Navidrome ``.nsp`` import: every expression of the file becomes a condition of ours.

`import_nsp` reads the JSON (text or parsed) into a `PlaylistRuleSet`; `NspImport.notes` lists
what has no exact equivalent but keeps the playlist's meaning (keys that are not rules, a
default sort, dates…), and `NspImport.problems` what the rule set cannot express, so that the
imported playlist would differ (an unknown operator, ``offset``): such an import is stored
disabled (`service.import_nsp_rules`), never enabled as a wider (or match-all) rule set. A file
that cannot be read raises `UnprocessableError` (code ``nsp_invalid``) with its JSON path.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import UnprocessableError
from app.core.rules import (
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    RuleProblem,
    SortKey,
)
from app.pipeline.rules.fields.discovery import infer_type
from app.pipeline.rules.navidrome.tables import (
    DATE_FIELDS,
    DATE_NOTE,
    NSP_TO_FIELD,
    NSP_TO_OPERATOR,
    OPERATOR_TO_NSP,
    is_number,
    is_scalar,
    navidrome_field,
)
from app.pipeline.rules.operators import BY_NAME, VALUE_KIND

__all__ = ["NspImport", "import_nsp", "slugify"]

Op = RuleOperator
TRACK_FIELD = "track"
_NSP_BY_FOLDED = {nsp.lower(): nsp for nsp in NSP_TO_OPERATOR}
_CONJUNCTIONS = {"all": "and", "any": "or"}


class NspImport(BaseModel):
    """A rule set read from an ``.nsp`` file; `notes` lists what has no exact equivalent."""

    model_config = ConfigDict(frozen=True)

    rule_set: PlaylistRuleSet
    notes: list[str] = Field(default_factory=list)
    problems: list[RuleProblem] = Field(default_factory=list)


def _invalid(path: str, message: str) -> UnprocessableError:
    where = f"{path}: " if path else ""
    return UnprocessableError(
        f"invalid .nsp file: {where}{message}", code="nsp_invalid", extra={"path": path or None}
    )


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def slugify(name: str) -> str:
    """A rule-set id from a playlist name: ``"80s Favourites!"`` → ``"80s-favourites"``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:128].rstrip("-")
    return slug or "navidrome-playlist"


def import_nsp(
    data: str | bytes | Mapping[str, Any],
    *,
    rule_id: str | None = None,
    name: str | None = None,
) -> NspImport:
    """Read a Navidrome ``.nsp`` file (JSON text or already parsed) into a rule set.

    The id is `rule_id`, else a slug of the name; the name is the file's ``name``, else `name`
    (e.g. the file name), else the id. Raises `UnprocessableError` (code ``nsp_invalid``, with
    ``extra["path"]``) naming the problem and its JSON path.
    """
    document = _load(data)
    reader = _Reader()
    keys = {key.lower(): key for key in document}
    for folded, key in keys.items():
        if folded not in (
            "all", "any", "sort", "order", "limit", "limitpercent", "offset", "name", "comment"
        ):  # fmt: skip
            reader.notes.append(
                f"`{key}`: not part of a smart playlist's rules; not imported "
                f"(value {json.dumps(document[key])})"
            )
    roots = [k for k in ("all", "any") if k in keys and document[keys[k]] not in (None, [])]
    if not roots:
        raise _invalid("", "no rules: the file needs a non-empty `all` or `any` list")
    if len(roots) > 1:
        raise _invalid("", "both `all` and `any` at the top level (Navidrome ignores `all`)")
    root_key = keys[roots[0]]
    rules = reader.group("and" if roots[0] == "all" else "or", document[root_key], root_key)

    title = _text_key(document, keys, "name")
    comment = _text_key(document, keys, "comment")
    sort = reader.sort(document, keys)
    limit = reader.limit(document, keys)
    if reader.unmapped:
        reader.notes.append(
            "Navidrome fields with no equivalent here, kept under their Navidrome names (the "
            "validator reports them unless an enrichment provides them): "
            + ", ".join(sorted(reader.unmapped))
        )
    if reader.unknown:
        reader.notes.append(
            "fields a stock Navidrome does not know either (custom tags?), kept as written: "
            + ", ".join(sorted(reader.unknown))
        )
    if reader.dates:
        reader.notes.append(DATE_NOTE)
    display = next((t for t in (title, name, rule_id) if t and t.strip()), "Navidrome playlist")
    try:
        rule_set = PlaylistRuleSet(
            id=rule_id or slugify(display),
            name=display,
            description=comment or None,
            rules=rules,
            sort=sort,
            limit=limit,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise _invalid(where, first["msg"]) from None
    return NspImport(rule_set=rule_set, notes=reader.notes, problems=reader.problems)


def _load(data: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        document: Any = data
    else:
        try:
            document = json.loads(data)
        except json.JSONDecodeError as exc:
            raise _invalid(
                "", f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        except UnicodeDecodeError as exc:
            raise _invalid("", f"not UTF-8 text ({exc.reason})") from None
    if not isinstance(document, Mapping):
        raise _invalid("", f"the file must be a JSON object, not {_kind(document)}")
    return document


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if is_number(value):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _text_key(document: Mapping[str, Any], keys: Mapping[str, str], folded: str) -> str | None:
    if folded not in keys:
        return None
    value = document[keys[folded]]
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(keys[folded], f"must be text, not {_kind(value)}")
    return value or None


def _whole(value: Any, path: str, what: str) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if is_number(value) and float(value).is_integer():
        return int(value)
    raise _invalid(path, f"{what} must be a whole number, not {json.dumps(value)}")


class _Reader:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.problems: list[RuleProblem] = []  # what the rule set cannot express
        self.unmapped: set[str] = set()  # Navidrome fields we have no equivalent for
        self.unknown: set[str] = set()  # fields Navidrome does not know either
        self.dates = False

    def field(self, name: str) -> str:
        folded = name.strip().lower()
        mapped = NSP_TO_FIELD.get(folded)
        if mapped is not None:
            return mapped
        if navidrome_field(folded):
            self.unmapped.add(folded)
        else:
            self.unknown.add(folded)
        return folded

    def group(self, operator: Literal["and", "or"], items: Any, path: str) -> RuleGroup:
        if not isinstance(items, list):
            raise _invalid(path, f"`all`/`any` takes a list of expressions, not {_kind(items)}")
        conditions: list[RuleCondition | RuleGroup] = []
        for index, item in enumerate(items):
            item_path = _join(path, index)
            if not isinstance(item, Mapping):
                raise _invalid(item_path, f"an expression is an object, not {_kind(item)}")
            if not item:
                raise _invalid(item_path, "an empty expression (no operator)")
            # Navidrome turns each key of an object into one expression of the enclosing list.
            for key, payload in item.items():
                node = self.expression(str(key), payload, _join(item_path, str(key)), operator)
                if node is not None:
                    conditions.append(node)
        return RuleGroup(operator=operator, conditions=conditions)

    def expression(
        self, key: str, payload: Any, path: str, parent: Literal["and", "or"]
    ) -> RuleCondition | RuleGroup | None:
        folded = key.lower()
        if folded in _CONJUNCTIONS:
            return self.group("and" if folded == "all" else "or", payload, path)
        nsp_op = _NSP_BY_FOLDED.get(folded)
        if nsp_op is None:
            effect = "wider" if parent == "and" else "narrower"
            known = difflib.get_close_matches(key, list(NSP_TO_OPERATOR), n=1, cutoff=0.6)
            self.problems.append(
                RuleProblem(
                    message=f"unknown operator `{key}` (Navidrome itself rejects such a file); "
                    f"not imported, so the rule set is {effect} than intended: "
                    f"{json.dumps({key: payload})}",
                    path=path,
                    hint=(f"did you mean `{known[0]}`? " if known else "")
                    + "write the condition in the rule set, then enable it",
                )
            )
            return None
        if not isinstance(payload, Mapping) or not payload:
            raise _invalid(path, f"`{key}` takes an object {{field: value}}, not {_kind(payload)}")
        op = NSP_TO_OPERATOR[nsp_op]
        if op in (Op.IN_PLAYLIST, Op.NOT_IN_PLAYLIST):
            return self.playlist(op, payload, path)
        conditions = [
            self.condition(op, str(name), value, _join(path, str(name)))
            for name, value in payload.items()
        ]
        if len(conditions) == 1:
            return conditions[0]
        return RuleGroup(operator="and", conditions=list(conditions))  # Navidrome ANDs them

    def playlist(self, op: RuleOperator, payload: Mapping[str, Any], path: str) -> RuleCondition:
        ident = {str(k).lower(): v for k, v in payload.items()}.get("id")
        if not isinstance(ident, str) or not ident.strip():
            raise _invalid(_join(path, "id"), "a playlist id (text) is needed")
        extra = [str(k) for k in payload if str(k).lower() != "id"]
        if extra:
            self.notes.append(f"{path}: keys {', '.join(extra)} ignored (only `id` is used)")
        return RuleCondition(field=TRACK_FIELD, operator=op, value=ident)

    def condition(self, op: RuleOperator, name: str, value: Any, path: str) -> RuleCondition:
        ours = self.field(name)
        if value is None:
            raise _invalid(path, "a value is needed, not null")
        shape = VALUE_KIND[op]
        if shape == "span":
            days = _whole(value, path, "a number of days")
            if days < 0:
                raise _invalid(path, f"a number of days must not be negative ({days})")
            return RuleCondition(field=ours, operator=op, value=f"{days}d")
        if shape == "pair":
            if not (isinstance(value, list) and len(value) == 2 and all(map(is_scalar, value))):
                nsp = OPERATOR_TO_NSP[op]
                raise _invalid(path, f"`{nsp}` takes [low, high], not {json.dumps(value)}")
            self._note_dates(name, value)
            return RuleCondition(field=ours, operator=op, value=list(value))
        if isinstance(value, list) and op in (Op.EQ, Op.NE):
            if not all(map(is_scalar, value)):
                raise _invalid(path, "a list of values must hold text, numbers or true/false")
            return RuleCondition(
                field=ours, operator=Op.IN if op is Op.EQ else Op.NOT_IN, value=list(value)
            )
        if not is_scalar(value):
            raise _invalid(path, f"takes text, a number or true/false, not {_kind(value)}")
        if "date" in BY_NAME[op].applies_to:
            self._note_dates(name, [value])
        return RuleCondition(field=ours, operator=op, value=value)

    def _note_dates(self, name: str, values: list[Any]) -> None:
        if name.lower() in DATE_FIELDS or any(infer_type(v) == "date" for v in values):
            self.dates = True

    def sort(self, document: Mapping[str, Any], keys: Mapping[str, str]) -> list[SortKey]:
        order = "asc"
        if "order" in keys and document[keys["order"]] not in (None, ""):
            raw = document[keys["order"]]
            if not isinstance(raw, str):
                raise _invalid(keys["order"], f"must be text, not {_kind(raw)}")
            if raw.strip().lower() in ("asc", "desc"):
                order = raw.strip().lower()
            else:
                self.notes.append(f"order `{raw}`: not asc/desc, ignored (as Navidrome does)")
        spec = document[keys["sort"]] if "sort" in keys else None
        if spec in (None, ""):
            self.notes.append("no `sort`: Navidrome orders by title, so the rule set sorts by name")
            return [SortKey(field="name", order="asc" if order == "asc" else "desc")]
        if not isinstance(spec, str):
            raise _invalid(
                keys["sort"], f"must be text (fields, comma-separated), not {_kind(spec)}"
            )
        result = []
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            descending = part.startswith("-")
            if part[0] in "+-":
                part = part[1:].strip()
            if order == "desc":
                descending = not descending
            folded = part.lower()
            ours = "random" if folded == "random" else self.field(part)
            result.append(SortKey(field=ours, order="desc" if descending else "asc"))
        return result

    def limit(self, document: Mapping[str, Any], keys: Mapping[str, str]) -> LimitSpec | None:
        def number(key: str) -> int:
            if key not in keys or document[keys[key]] is None:
                return 0
            value = _whole(document[keys[key]], keys[key], f"`{keys[key]}`")
            if value < 0:
                raise _invalid(keys[key], f"must not be negative ({value})")
            return value

        tracks, percent, offset = number("limit"), number("limitpercent"), number("offset")
        if offset:
            self.problems.append(
                RuleProblem(
                    message=f"offset {offset}: Navidrome skips the first {offset} tracks (in "
                    "sort order); a rule set has no offset, so the imported playlist keeps them",
                    path=keys["offset"],
                    hint="enable it if keeping them is fine, or narrow the rules",
                )
            )
        if tracks and percent:
            raise _invalid("", "both `limit` and `limitPercent`: give one of them")
        if percent > 100:
            raise _invalid(keys["limitpercent"], f"a percentage is at most 100 ({percent})")
        if percent:
            return LimitSpec(value=percent, unit="percent")
        return LimitSpec(value=tracks) if tracks else None
