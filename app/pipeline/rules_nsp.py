"""Navidrome smart playlists (``.nsp`` files): import losslessly, export saying what is lost.

An ``.nsp`` file is JSON: a root ``all`` or ``any`` list of expressions (each a one-key object,
``{"<operator>": {"<field>": value}}``, or a nested ``all``/``any``), plus ``sort``, ``order``,
``limit``, ``limitPercent``, ``offset``, ``name`` and ``comment``. Keys, operators and field names
are case-insensitive in Navidrome; we read them so and write the canonical spelling.

`import_nsp` turns every expression into a condition of ours; `NspImport.notes` lists anything
with no exact equivalent (``offset``, unknown keys, fields we do not have…). `export_nsp` writes
the ``.nsp`` JSON; `NspExport.dropped` has one line per thing Navidrome cannot express (and says
how dropping it changes the playlist), `NspExport.notes` the meaning-preserving rewrites
(``year >= 1990`` → ``year > 1989``, ``in [a, b]`` → any of ``is``…).

Fields (`NSP_TO_FIELD`; any other Navidrome field keeps its Navidrome name, lower-cased)::

    Navidrome     ours            Navidrome     ours
    title         name            loved         liked
    artist        artists         dateadded     added_at  (Navidrome: file added; ours: liked)
    album         album           releasedate   release_date
    year          year            duration      duration  (seconds, both)
    genre         genres          bpm           tempo
    mood          mood            isrc          isrc

Operators (`NSP_TO_OPERATOR`)::

    is eq · isNot ne · gt gt · lt lt · contains contains · notContains not_contains ·
    startsWith starts_with · endsWith ends_with · inTheRange between · before before ·
    after after · inTheLast in_last "<n>d" · notInTheLast not_in_last "<n>d" ·
    inPlaylist in_playlist · notInPlaylist not_in_playlist (both on the field ``track``) ·
    all and · any or · is [list] in · isNot [list] not_in

Dates: Navidrome compares stored timestamps with the date as text, so on a timestamp field
(``dateadded``, ``lastplayed``…) ``after D`` includes day D after midnight and ``inTheRange [a,
b]`` ends at the first instant of b; ours treat a date as its whole day. We do not rewrite dates
for that one-day boundary; both directions say so in their notes.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from app.core.errors import UnprocessableError
from app.core.rules import (
    NEGATION,
    SPAN_SECONDS,
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    SortKey,
    parse_span,
)
from app.pipeline.rules_fields import infer_type
from app.pipeline.rules_text import format_rules

__all__ = [
    "FIELD_TO_NSP",
    "NAVIDROME_FIELDS",
    "NSP_TO_FIELD",
    "NSP_TO_OPERATOR",
    "NspExport",
    "NspImport",
    "export_nsp",
    "import_nsp",
]

Op = RuleOperator
TRACK_FIELD = "track"
DAY = SPAN_SECONDS["d"]
NOT_HAS_ALL = "not_has_all"  # `not (x has all [...])`: has no operator of its own

NSP_TO_FIELD: dict[str, str] = {
    "title": "name",
    "artist": "artists",
    "album": "album",
    "year": "year",
    "genre": "genres",
    "mood": "mood",
    "dateadded": "added_at",
    "releasedate": "release_date",
    "duration": "duration",
    "bpm": "tempo",
    "loved": "liked",
    "isrc": "isrc",
}
"""Navidrome field → ours. Every other Navidrome field is kept under its own (lower-case) name."""

FIELD_TO_NSP: dict[str, str] = {
    **{ours: nsp for nsp, ours in NSP_TO_FIELD.items()},
    "title": "title",  # our aliases of name / artists
    "artist": "artist",
}
"""Our field (case-folded) → Navidrome field."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


OURS_ONLY: frozenset[str] = frozenset(
    {"duration_ms", "explicit", "is_local", "id", "track_id", "uri", "sources", "playlists"}
)
"""Built-in fields of ours with no Navidrome field (`duration_ms` is rewritten as `duration`)."""

NAVIDROME_FIELDS: frozenset[str] = _words(
    # fields (model/criteria/fields.go)
    "title album hascoverart tracknumber discnumber year date recordingdate originalyear "
    "originaldate releaseyear releasedate size compilation dateadded datemodified "
    "discsubtitle comment lyrics sorttitle sortalbum sortartist sortalbumartist albumcomment "
    "catalognumber filepath filetype duration bitrate bitdepth samplerate bpm channels loved "
    "dateloved lastplayed daterated playcount rating albumrating artistrating library_id "
    "albumtype mbz_album_id mbz_album_artist_id mbz_artist_id mbz_recording_id "
    "mbz_release_track_id mbz_release_group_id "
    # artist roles
    "artist albumartist composer conductor lyricist arranger producer director engineer "
    "mixer remixer djmixer performer maincredit "
    # tags of Navidrome's default mappings.yaml
    "genre mood grouping isrc key language recordlabel releasecountry releasestatus "
    "releasetype media barcode asin copyright script website work movement movementname "
    "movementtotal albumversion subtitle encodedby encodersettings gapless license "
    "replaygain_album_gain replaygain_album_peak replaygain_track_gain replaygain_track_peak"
)
"""Field names a stock Navidrome knows (plus ``mbz_*`` and ``musicbrainz_*`` tags); tags
configured in a Navidrome install can be passed to `export_nsp` as `navidrome_fields`."""

INTEGRAL_FIELDS: frozenset[str] = _words(
    "year originalyear releaseyear tracknumber discnumber size playcount rating albumrating "
    "artistrating bitrate bitdepth samplerate channels library_id bpm movement "
    "movementtotal"
)
"""Navidrome fields holding whole numbers: ``x >= n`` is exactly ``x > n - 1`` there."""

DATE_FIELDS: frozenset[str] = _words(
    "date recordingdate originaldate releasedate dateadded datemodified dateloved lastplayed "
    "daterated"
)

NSP_TO_OPERATOR: dict[str, RuleOperator] = {
    "is": Op.EQ,
    "isNot": Op.NE,
    "gt": Op.GT,
    "lt": Op.LT,
    "contains": Op.CONTAINS,
    "notContains": Op.NOT_CONTAINS,
    "startsWith": Op.STARTS_WITH,
    "endsWith": Op.ENDS_WITH,
    "inTheRange": Op.BETWEEN,
    "before": Op.BEFORE,
    "after": Op.AFTER,
    "inTheLast": Op.IN_LAST,
    "notInTheLast": Op.NOT_IN_LAST,
    "inPlaylist": Op.IN_PLAYLIST,
    "notInPlaylist": Op.NOT_IN_PLAYLIST,
}
"""Navidrome operator (canonical spelling; read case-insensitively) → ours."""

OPERATOR_TO_NSP: dict[RuleOperator, str] = {op: nsp for nsp, op in NSP_TO_OPERATOR.items()}
_NSP_BY_FOLDED = {nsp.lower(): nsp for nsp in NSP_TO_OPERATOR}
_CONJUNCTIONS = {"all": "and", "any": "or"}
_DATE_NOTE = (
    "dates: Navidrome compares timestamps with the date as text, so on a timestamp field "
    "`after D` includes day D and `inTheRange [a, b]` stops at the start of day b, while we "
    "treat a date as its whole day (not rewritten)"
)


@dataclass(frozen=True)
class NspImport:
    """A rule set read from an ``.nsp`` file; `notes` lists what has no exact equivalent."""

    rule_set: PlaylistRuleSet
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NspExport:
    """The ``.nsp`` JSON of a rule set.

    `dropped`: one line per thing Navidrome cannot express (left out, with its effect on the
    playlist). `notes`: meaning-preserving rewrites and caveats.
    """

    data: dict[str, Any]
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- import ------------------------------------------------------------------------------------


def _invalid(path: str, message: str) -> UnprocessableError:
    where = f"{path}: " if path else ""
    return UnprocessableError(
        f"invalid .nsp file: {where}{message}", code="nsp_invalid", extra={"path": path or None}
    )


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
        reader.notes.append(_DATE_NOTE)
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
    return NspImport(rule_set=rule_set, notes=reader.notes)


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
    if _is_number(value):
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
    if _is_number(value) and float(value).is_integer():
        return int(value)
    raise _invalid(path, f"{what} must be a whole number, not {json.dumps(value)}")


class _Reader:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.unmapped: set[str] = set()  # Navidrome fields we have no equivalent for
        self.unknown: set[str] = set()  # fields Navidrome does not know either
        self.dates = False

    def field(self, name: str) -> str:
        folded = name.strip().lower()
        mapped = NSP_TO_FIELD.get(folded)
        if mapped is not None:
            return mapped
        if _navidrome_field(folded):
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
            self.notes.append(
                f"{path}: unknown operator `{key}` (Navidrome itself rejects such a file); "
                f"not imported, so the rule set is {effect} than intended: "
                f"{json.dumps({key: payload})}"
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
        if op in (Op.IN_LAST, Op.NOT_IN_LAST):
            days = _whole(value, path, "a number of days")
            if days < 0:
                raise _invalid(path, f"a number of days must not be negative ({days})")
            return RuleCondition(field=ours, operator=op, value=f"{days}d")
        if op is Op.BETWEEN:
            if not (isinstance(value, list) and len(value) == 2 and all(map(_is_scalar, value))):
                raise _invalid(path, f"`inTheRange` takes [low, high], not {json.dumps(value)}")
            self._note_dates(name, value)
            return RuleCondition(field=ours, operator=op, value=list(value))
        if isinstance(value, list) and op in (Op.EQ, Op.NE):
            if not all(map(_is_scalar, value)):
                raise _invalid(path, "a list of values must hold text, numbers or true/false")
            return RuleCondition(
                field=ours, operator=Op.IN if op is Op.EQ else Op.NOT_IN, value=list(value)
            )
        if not _is_scalar(value):
            raise _invalid(path, f"takes text, a number or true/false, not {_kind(value)}")
        if op in (Op.GT, Op.LT, Op.BEFORE, Op.AFTER, Op.EQ, Op.NE):
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
            self.notes.append(
                f"offset {offset}: Navidrome skips the first {offset} tracks (in sort order); "
                "a rule set has no offset, so the imported playlist keeps them"
            )
        if tracks and percent:
            raise _invalid("", "both `limit` and `limitPercent`: give one of them")
        if percent > 100:
            raise _invalid(keys["limitpercent"], f"a percentage is at most 100 ({percent})")
        if percent:
            return LimitSpec(value=percent, unit="percent")
        return LimitSpec(value=tracks) if tracks else None


def _navidrome_field(folded: str, extra: Iterable[str] = ()) -> bool:
    return (
        folded in NAVIDROME_FIELDS
        or folded.startswith(("mbz_", "musicbrainz_"))
        or folded in {e.lower() for e in extra}
    )


# --- export ------------------------------------------------------------------------------------


def export_nsp(rule_set: PlaylistRuleSet, *, navidrome_fields: Iterable[str] = ()) -> NspExport:
    """The ``.nsp`` JSON of a rule set, with what Navidrome cannot express in `dropped`.

    `navidrome_fields`: extra field names the target Navidrome knows (custom tags), exported
    unchanged. Negated groups are pushed down (De Morgan, operator twins) before anything is
    dropped; a dropped condition's line says whether the playlist gets wider or narrower.
    """
    writer = _Writer(frozenset(f.lower() for f in navidrome_fields))
    root = writer.group(rule_set.rules, negated=False)
    if not next(iter(root.values())):
        root = {"all": [{"gt": {"playcount": -1}}]}
        line = (
            "no condition to export: Navidrome refuses a smart playlist without rules, so the "
            'export matches every track with `{"gt": {"playcount": -1}}`'
        )
        if rule_set.rules.conditions:  # every condition was dropped: that is a change
            writer.dropped.append(line + "; the exported playlist holds the whole library")
        else:
            writer.notes.append(line)
    data: dict[str, Any] = {"name": rule_set.name}
    if rule_set.description:
        data["comment"] = rule_set.description
    data.update(root)
    data.update(writer.sort(rule_set.sort))
    data.update(writer.limit(rule_set))
    writer.clauses(rule_set)
    if writer.dates:
        writer.notes.append(_DATE_NOTE)
    return NspExport(data=data, dropped=writer.dropped, notes=writer.notes)


def _describe(node: RuleCondition | RuleGroup, negated: bool = False) -> str:
    try:
        text = format_rules(RuleGroup(conditions=[node]))
    except ValueError:
        text = json.dumps(node.model_dump(mode="json", exclude_defaults=True))
    return f"not ({text})" if negated else text


def _effect(parent: str, text: str) -> str:
    if parent == "all":
        return f"the exported playlist is wider: it no longer requires `{text}`"
    return f"the exported playlist is narrower: tracks matched only by `{text}` are left out"


class _Writer:
    def __init__(self, extra_fields: frozenset[str]) -> None:
        self.extra_fields = extra_fields
        self.dropped: list[str] = []
        self._why: dict[int, str] = {}  # index in `dropped` → reason, for `drop` lines
        self.notes: list[str] = []
        self.dates = False

    def drop(self, what: str, why: str, parent: str) -> None:
        self._why[len(self.dropped)] = why
        self.dropped.append(f"`{what}`: {why}; {_effect(parent, what)}")

    def group(self, group: RuleGroup, *, negated: bool) -> dict[str, Any]:
        """The group with `negated` pushed down (De Morgan); unexpressible children left out."""
        flip = group.negate != negated
        operator = group.operator if not flip else ("or" if group.operator == "and" else "and")
        key = "all" if operator == "and" else "any"
        children: list[dict[str, Any]] = []
        for child in group.conditions:
            if isinstance(child, RuleGroup):
                before = len(self.dropped)
                exported = self.group(child, negated=flip)
                if child.conditions and not next(iter(exported.values())):
                    # An emptied `any` would match nothing (an emptied `all` everything): leave
                    # the whole group out instead, in one line with every reason.
                    reasons = sorted(
                        {self._why.pop(i, "") for i in range(before, len(self.dropped))}
                    )
                    del self.dropped[before:]
                    why = "; ".join(r for r in reasons if r)
                    self.drop(
                        _describe(child, flip),
                        f"nothing in it can be expressed ({why}), so the whole group is left out",
                        key,
                    )
                else:
                    children.append(exported)
            else:
                condition = self.condition(child, negated=flip, parent=key)
                if condition is not None:
                    children.append(condition)
        return {key: children}

    def nsp_field(self, condition: RuleCondition, parent: str, text: str) -> str | None:
        folded = condition.field.strip().lower()
        if folded == "duration_ms":
            return "duration"  # the value is converted to seconds by the caller
        if folded in OURS_ONLY:
            self.drop(text, f"Navidrome has no field for `{condition.field}`", parent)
            return None
        nsp = FIELD_TO_NSP.get(folded, folded)
        if not _navidrome_field(nsp, self.extra_fields):
            self.drop(text, f"Navidrome has no field `{condition.field}`", parent)
            return None
        back = NSP_TO_FIELD.get(nsp, nsp)
        if back != folded and folded not in ("title", "artist"):
            self.notes.append(
                f"`{condition.field}` is written as Navidrome `{nsp}`, which imports as `{back}`"
            )
        return nsp

    def condition(
        self, condition: RuleCondition, *, negated: bool, parent: str
    ) -> dict[str, Any] | None:
        text = _describe(condition, negated)
        op: str = condition.operator
        if negated:
            twin = NEGATION.get(condition.operator)
            if twin is not None:
                op = twin
            elif condition.operator is Op.HAS_ALL:
                op = NOT_HAS_ALL
            else:
                self.drop(text, f"Navidrome has no negation of `{condition.operator}`", parent)
                return None
        value = condition.value
        if op in (Op.IN_PLAYLIST, Op.NOT_IN_PLAYLIST):
            if not isinstance(value, str):
                self.drop(text, "a playlist is given by its id (text)", parent)
                return None
            return {OPERATOR_TO_NSP[Op(op)]: {"id": value}}
        if op in (Op.IN_RULE, Op.NOT_IN_RULE):
            self.drop(text, "Navidrome cannot refer to another rule set", parent)
            return None
        unsupported: dict[str, str] = {
            Op.REGEX: "regular expressions",
            Op.NOT_REGEX: "regular expressions",
            Op.EXISTS: "a test for a present value",
            Op.NOT_EXISTS: "a test for a missing value",
            Op.NOT_STARTS_WITH: "`not starts with`",
            Op.NOT_ENDS_WITH: "`not ends with`",
            Op.NOT_BETWEEN: "`not between` (outside a range)",
        }
        if op in unsupported:
            self.drop(text, f"Navidrome has no {unsupported[op]}", parent)
            return None
        name = self.nsp_field(condition, parent, text)
        if name is None:
            return None
        if condition.field.strip().lower() == "duration_ms":
            value = _ms_to_seconds(value)
            if value is None:
                self.drop(text, "only numbers of milliseconds convert to `duration`", parent)
                return None
            self.notes.append(f"`{text}` is written in seconds, on Navidrome `duration`")
        if condition.case_sensitive and _has_text(value):
            negative = op in (Op.NE, Op.NOT_CONTAINS, Op.NOT_IN, Op.HAS_NONE, NOT_HAS_ALL)
            effect = "excludes" if negative else "matches"
            self.dropped.append(
                f"`{text}`: Navidrome cannot compare case-sensitively; exported "
                f"ignoring case, so it also {effect} other capitalisations"
            )
        if condition.accent_insensitive and _has_text(value):
            negative = op in (Op.NE, Op.NOT_CONTAINS, Op.NOT_IN, Op.HAS_NONE, NOT_HAS_ALL)
            effect = "excludes" if negative else "matches"
            self.dropped.append(
                f"`{text}`: Navidrome compares accents exactly; exported as written, so it "
                f"no longer {effect} other accentuations"
            )
        return self.translate(op, name, value, text, parent)

    def translate(
        self,
        op: str,
        name: str,
        value: Any,
        text: str,
        parent: str,
    ) -> dict[str, Any] | None:
        if op in (Op.IN_LAST, Op.NOT_IN_LAST):
            days = _days(value)
            if days is None:
                self.drop(text, "Navidrome counts whole days only", parent)
                return None
            if value != f"{days}d":
                self.notes.append(f"`{text}` is written as {days} days")
            return {OPERATOR_TO_NSP[Op(op)]: {name: days}}
        if op in (Op.IN, Op.HAS_ANY, Op.NOT_IN, Op.HAS_NONE, Op.HAS_ALL, NOT_HAS_ALL):
            if not isinstance(value, list) or not all(map(_is_scalar, value)):
                self.drop(text, "the value is not a list of text or numbers", parent)
                return None
            positive = op in (Op.IN, Op.HAS_ANY, Op.HAS_ALL)
            each = "is" if positive else "isNot"
            every = op in (Op.HAS_ALL, Op.NOT_IN, Op.HAS_NONE)
            parts = [{each: {name: item}} for item in value]
            self.notes.append(f"`{text}` is written as {'all' if every else 'any'} of `{each}`")
            if len(parts) == 1:
                return parts[0]
            return {"all" if every else "any": parts}
        operator = Op(op)
        if operator is Op.BETWEEN:
            if not (isinstance(value, list) and len(value) == 2 and all(map(_is_scalar, value))):
                self.drop(text, "the value is not a pair [low, high]", parent)
                return None
            self._note_dates(name, value)
            return {"inTheRange": {name: list(value)}}
        if not _is_scalar(value):
            self.drop(text, "the value is not text, a number or true/false", parent)
            return None
        if operator in (Op.GTE, Op.LTE):
            return self.inclusive(operator, name, value, text, parent)
        self._note_dates(name, [value])
        if operator not in OPERATOR_TO_NSP:
            self.drop(text, f"Navidrome has no `{op}`", parent)
            return None
        return {OPERATOR_TO_NSP[operator]: {name: value}}

    def inclusive(
        self, op: RuleOperator, name: str, value: Any, text: str, parent: str
    ) -> dict[str, Any] | None:
        strict = "gt" if op is Op.GTE else "lt"
        if not _is_number(value):
            symbol = ">=" if op is Op.GTE else "<="
            self.drop(text, f"Navidrome has no `{symbol}` except on numbers", parent)
            return None
        if name in INTEGRAL_FIELDS and float(value).is_integer():
            bound = int(value) - 1 if op is Op.GTE else int(value) + 1
            self.notes.append(f"`{text}` is written as `{name} {strict} {bound}` (whole numbers)")
            return {strict: {name: bound}}
        self.notes.append(f"`{text}` is written as any of `{strict}` and `is`")
        return {"any": [{strict: {name: value}}, {"is": {name: value}}]}

    def _note_dates(self, name: str, values: list[Any]) -> None:
        if name in DATE_FIELDS or any(infer_type(v) == "date" for v in values):
            self.dates = True

    def sort_key(self, key: SortKey) -> str | None:
        folded = key.field.strip().lower()
        if folded == "random":
            if key.seed is not None:
                self.dropped.append(
                    f"sort by random seed {key.seed}: Navidrome reshuffles on every refresh "
                    "(no stable shuffle)"
                )
            return "random"
        if folded == "duration_ms":
            folded = "duration"
        nsp = FIELD_TO_NSP.get(folded, folded)
        if folded in OURS_ONLY or not _navidrome_field(nsp, self.extra_fields):
            self.dropped.append(f"sort by {key.field}: Navidrome has no field `{key.field}`")
            return None
        return nsp

    def sort(self, keys: list[SortKey]) -> dict[str, Any]:
        if not keys:
            self.dropped.append(
                "no sort: here the playlist is in library order; Navidrome orders it by title"
            )
            return {}
        written = [(name, key.order) for key in keys if (name := self.sort_key(key)) is not None]
        if written == [("title", "asc")]:
            return {}  # Navidrome's default
        if not written:
            self.dropped.append("no sort field left: Navidrome orders the playlist by title")
            return {}
        if len(written) == 1:
            name, order = written[0]
            return {"sort": name, "order": "desc"} if order == "desc" else {"sort": name}
        self.notes.append(
            "several sort fields need a Navidrome that accepts comma-separated `sort` fields "
            "(older ones sort by title)"
        )
        return {"sort": ",".join(("-" if o == "desc" else "") + n for n, o in written)}

    def limit(self, rule_set: PlaylistRuleSet) -> dict[str, Any]:
        limit = rule_set.limit
        if limit is None:
            return {}
        if limit.selected_by and limit.selected_by != rule_set.sort:
            chosen = ", ".join(f"{k.field} {k.order}" for k in limit.selected_by)
            self.dropped.append(
                f"limit selected by {chosen}: Navidrome chooses the tracks to keep by the sort "
                "order instead, so other tracks may be kept"
            )
        value = limit.value
        if limit.unit == "minutes":
            self.dropped.append(
                f"limit {value:g} minutes: Navidrome limits by tracks only; the exported "
                "playlist is wider (no limit)"
            )
            return {}
        if not float(value).is_integer():
            self.dropped.append(
                f"limit {value:g}%: Navidrome takes a whole percentage; the exported playlist "
                "is wider (no limit)"
            )
            return {}
        return {"limitPercent" if limit.unit == "percent" else "limit": int(value)}

    def clauses(self, rule_set: PlaylistRuleSet) -> None:
        if rule_set.sources is not None:
            shown = ", ".join(rule_set.sources) or "(none)"
            self.dropped.append(
                f"from {shown}: Navidrome takes every track of its library; the exported "
                "playlist is wider"
            )
        if rule_set.dedupe != "none":
            self.dropped.append(
                f"dedupe by {rule_set.dedupe}: Navidrome does not remove duplicates; the exported "
                "playlist may hold several versions of a song"
            )
        if rule_set.max_per_artist is not None:
            self.dropped.append(
                f"max {rule_set.max_per_artist} per artist: Navidrome has no per-artist cap; the "
                "exported playlist is wider"
            )
        if rule_set.include:
            self.dropped.append(
                f"include (pinned) {len(rule_set.include)} track(s): Navidrome cannot pin "
                "tracks; the exported playlist is narrower"
            )
        if rule_set.exclude:
            self.dropped.append(
                f"exclude (banned) {len(rule_set.exclude)} track(s): Navidrome cannot ban "
                "tracks; the exported playlist is wider"
            )


def _has_text(value: Any) -> bool:
    if isinstance(value, list):
        return any(isinstance(v, str) for v in value)
    return isinstance(value, str)


def _ms_to_seconds(value: Any) -> Any:
    def convert(item: Any) -> Any:
        if not _is_number(item):
            return None
        seconds = item / 1000
        return int(seconds) if float(seconds).is_integer() else seconds

    if isinstance(value, list):
        converted = [convert(v) for v in value]
        return None if any(c is None for c in converted) else converted
    return convert(value)


def _days(value: Any) -> int | None:
    if _is_number(value):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(parse_span(value))
        except ValueError:
            return None
    else:
        return None
    if seconds < 0 or seconds % DAY:
        return None
    return int(seconds // DAY)
