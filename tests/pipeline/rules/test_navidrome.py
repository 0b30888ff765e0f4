"""Navidrome `.nsp` interop: lossless import, export that says what it cannot express."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import UnprocessableError
from app.core.rules import (
    LimitSpec,
    PlaylistRuleSet,
    RuleCondition,
    RuleGroup,
    RuleOperator,
    SortKey,
)
from app.pipeline.rules.navidrome.exporter import export_nsp
from app.pipeline.rules.navidrome.importer import import_nsp, slugify
from app.pipeline.rules.text.printer import format_rules

Op = RuleOperator

# A realistic file: nesting three deep, every Navidrome operator, a multi-field sort and a limit.
DRIVE_TIME_NSP: dict[str, Any] = {
    "name": "Drive Time: Loved Rock & Friends",
    "comment": "Loved or highly rated rock, no live cuts, nothing heard this week",
    "all": [
        {
            "any": [
                {"is": {"loved": True}},
                {"gt": {"rating": 3}},
                {"inPlaylist": {"id": "b7f3c1d2-road-trip"}},
            ]
        },
        {"isNot": {"compilation": True}},
        {"inTheRange": {"year": [1975, 1999]}},
        {"lt": {"duration": 420}},
        {
            "any": [
                {"contains": {"genre": "rock"}},
                {"startsWith": {"title": "Highway"}},
                {"endsWith": {"album": "(Remastered)"}},
                {"all": [{"is": {"artist": "Fleetwood Mac"}}, {"after": {"date": "1977-01-01"}}]},
            ]
        },
        {"notContains": {"title": "live"}},
        {"before": {"dateadded": "2024-06-01"}},
        {"inTheLast": {"dateloved": 365}},
        {"notInTheLast": {"lastplayed": 7}},
        {"notInPlaylist": {"id": "0a9e-christmas"}},
        {"gt": {"bpm": 110}},
    ],
    "sort": "-playcount,title",
    "limit": 75,
}

DRIVE_TIME_TEXT = "\n".join(
    [
        '(liked = true or rating > 3 or in playlist "b7f3c1d2-road-trip") and compilation != true '
        "and year between 1975..1999 and duration < 420 "
        'and (genres contains "rock" or name starts with "Highway" '
        'or album ends with "(Remastered)" or artists = "Fleetwood Mac" and date after 1977-01-01) '
        'and name not contains "live" and added_at before 2024-06-01 and dateloved in last 365d '
        'and lastplayed not in last 7d and not in playlist "0a9e-christmas" and tempo > 110',
        "sort by playcount desc, name",
        "limit 75 tracks",
        'description "Loved or highly rated rock, no live cuts, nothing heard this week"',
    ]
)


def _rule_set(rules: RuleGroup | None = None, **fields: Any) -> PlaylistRuleSet:
    defaults: dict[str, Any] = {"id": "x", "name": "X", "sort": [SortKey(field="name")]}
    return PlaylistRuleSet(rules=rules or RuleGroup(), **{**defaults, **fields})


def _one(field: str, operator: RuleOperator, value: Any = None, **kw: Any) -> RuleGroup:
    return RuleGroup(conditions=[RuleCondition(field=field, operator=operator, value=value, **kw)])


# --- import -------------------------------------------------------------------------------------


def test_realistic_file_imports_every_operator_and_nesting() -> None:
    result = import_nsp(json.dumps(DRIVE_TIME_NSP))
    rule_set = result.rule_set
    assert rule_set.id == "drive-time-loved-rock-friends"
    assert rule_set.name == "Drive Time: Loved Rock & Friends"
    assert rule_set.description == DRIVE_TIME_NSP["comment"]
    assert format_rules(rule_set) == DRIVE_TIME_TEXT
    assert rule_set.rules.depth() == 3
    assert result.notes == [
        "Navidrome fields with no equivalent here, kept under their Navidrome names (the "
        "validator reports them unless an enrichment provides them): compilation, date, "
        "dateloved, lastplayed, playcount, rating",
        result.notes[-1],
    ]
    assert result.notes[-1].startswith("dates: Navidrome compares timestamps")


def test_realistic_file_exports_back_unchanged() -> None:
    exported = export_nsp(import_nsp(DRIVE_TIME_NSP).rule_set)
    assert exported.nsp == DRIVE_TIME_NSP
    assert exported.dropped == []
    assert exported.notes == [
        "several sort fields need a Navidrome that accepts comma-separated `sort` fields "
        "(older ones sort by title)",
        exported.notes[-1],
    ]


@pytest.mark.parametrize(
    ("expression", "field", "operator", "value"),
    [
        ({"is": {"loved": True}}, "liked", Op.EQ, True),
        ({"isNot": {"genre": "Christmas"}}, "genres", Op.NE, "Christmas"),
        ({"gt": {"year": 2000}}, "year", Op.GT, 2000),
        ({"lt": {"duration": 180.5}}, "duration", Op.LT, 180.5),
        ({"contains": {"title": "love"}}, "name", Op.CONTAINS, "love"),
        ({"notContains": {"album": "Live"}}, "album", Op.NOT_CONTAINS, "Live"),
        ({"startsWith": {"artist": "The "}}, "artists", Op.STARTS_WITH, "The "),
        ({"endsWith": {"title": "Remix"}}, "name", Op.ENDS_WITH, "Remix"),
        ({"inTheRange": {"bpm": [120, 130]}}, "tempo", Op.BETWEEN, [120, 130]),
        ({"before": {"dateadded": "2020-01-01"}}, "added_at", Op.BEFORE, "2020-01-01"),
        ({"after": {"releasedate": "2019-05"}}, "release_date", Op.AFTER, "2019-05"),
        ({"inTheLast": {"dateadded": 30}}, "added_at", Op.IN_LAST, "30d"),
        ({"inTheLast": {"lastplayed": "14"}}, "lastplayed", Op.IN_LAST, "14d"),
        ({"notInTheLast": {"lastplayed": 90}}, "lastplayed", Op.NOT_IN_LAST, "90d"),
        ({"inPlaylist": {"id": "pl-1"}}, "track", Op.IN_PLAYLIST, "pl-1"),
        ({"notInPlaylist": {"id": "pl-2"}}, "track", Op.NOT_IN_PLAYLIST, "pl-2"),
        ({"is": {"mood": "Happy"}}, "mood", Op.EQ, "Happy"),
        ({"is": {"isrc": "GBAYE0601498"}}, "isrc", Op.EQ, "GBAYE0601498"),
        ({"is": {"genre": ["rock", "pop"]}}, "genres", Op.IN, ["rock", "pop"]),
        ({"isNot": {"genre": ["rock", "pop"]}}, "genres", Op.NOT_IN, ["rock", "pop"]),
        # Navidrome reads operators and fields case-insensitively; unmapped names are lower-cased
        ({"ISNOT": {"PlayCount": 0}}, "playcount", Op.NE, 0),
        ({"inthelast": {"dateLoved": 7}}, "dateloved", Op.IN_LAST, "7d"),
        ({"gt": {"albumRating": 4}}, "albumrating", Op.GT, 4),
    ],
)
def test_import_operator_and_field(
    expression: dict[str, Any], field: str, operator: RuleOperator, value: Any
) -> None:
    rules = import_nsp({"all": [expression]}).rule_set.rules
    assert rules == RuleGroup(
        conditions=[RuleCondition(field=field, operator=operator, value=value)]
    )


def test_import_multi_key_objects_like_navidrome() -> None:
    # Each key of an object is its own expression of the enclosing list; several fields in one
    # operator are ANDed.
    rules = import_nsp(
        {"any": [{"is": {"loved": True}, "gt": {"rating": 4}}, {"is": {"year": 1999, "bpm": 90}}]}
    ).rule_set.rules
    assert format_rules(rules) == "liked = true or rating > 4 or year = 1999 and tempo = 90"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"all": [{"is": {"loved": True}}]}, []),
        ({"all": [{"is": {"loved": True}}], "sort": "random"}, [SortKey(field="random")]),
        (
            {"all": [{"is": {"loved": True}}], "sort": "dateAdded", "order": "DESC"},
            [SortKey(field="added_at", order="desc")],
        ),
        (
            {"all": [{"is": {"loved": True}}], "sort": "+year, -title", "order": "desc"},
            [SortKey(field="year", order="desc"), SortKey(field="name", order="asc")],
        ),
        (
            {"all": [{"is": {"loved": True}}], "order": "desc"},
            [SortKey(field="name", order="desc")],
        ),
    ],
)
def test_import_sort(document: dict[str, Any], expected: list[SortKey]) -> None:
    sort = import_nsp(document).rule_set.sort
    assert sort == (expected or [SortKey(field="name")])  # no sort: Navidrome orders by title


@pytest.mark.parametrize(
    ("extra", "limit"),
    [
        ({"limit": 50}, LimitSpec(value=50)),
        ({"limitPercent": 10}, LimitSpec(value=10, unit="percent")),
        ({"limit": 0}, None),
        ({"limit": 25, "limitPercent": 0}, LimitSpec(value=25)),
        ({}, None),
    ],
)
def test_import_limit(extra: dict[str, Any], limit: LimitSpec | None) -> None:
    document = {"all": [{"is": {"loved": True}}], **extra}
    assert import_nsp(document).rule_set.limit == limit


@pytest.mark.parametrize(
    ("document", "path", "message", "hint"),
    [
        (
            {"all": [{"is": {"loved": True}}], "limit": 20, "offset": 10},
            "offset",
            "offset 10: Navidrome skips the first 10 tracks (in sort order); a rule set has no "
            "offset, so the imported playlist keeps them",
            "enable it if keeping them is fine, or narrow the rules",
        ),
        (
            {"all": [{"is": {"loved": True}}, {"matches": {"title": "^Live"}}]},
            "all[1].matches",
            "unknown operator `matches` (Navidrome itself rejects such a file); "
            'not imported, so the rule set is wider than intended: {"matches": {"title": "^Live"}}',
            "write the condition in the rule set, then enable it",
        ),
        (
            {"any": [{"is": {"loved": True}}, {"contain": {"title": "x"}}]},
            "any[1].contain",
            "unknown operator `contain` (Navidrome itself rejects such a file); "
            'not imported, so the rule set is narrower than intended: {"contain": {"title": "x"}}',
            "did you mean `contains`? write the condition in the rule set, then enable it",
        ),
    ],
)
def test_import_reports_what_a_rule_set_cannot_express_as_problems(
    document: dict[str, Any], path: str, message: str, hint: str
) -> None:
    imported = import_nsp(document)
    assert [(p.path, p.message, p.hint) for p in imported.problems] == [(path, message, hint)]
    assert imported.notes == ["no `sort`: Navidrome orders by title, so the rule set sorts by name"]


@pytest.mark.parametrize(
    ("document", "note"),
    [
        (
            {"all": [{"is": {"loved": True}}], "public": True},
            "`public`: not part of a smart playlist's rules; not imported (value true)",
        ),
        (
            {"all": [{"is": {"loved": True}}], "sort": "year", "order": "sideways"},
            "order `sideways`: not asc/desc, ignored (as Navidrome does)",
        ),
        (
            {"all": [{"is": {"energylevel": 5}}], "sort": "year"},
            "fields a stock Navidrome does not know either (custom tags?), kept as written: "
            "energylevel",
        ),
        (
            {"all": [{"inPlaylist": {"id": "p", "name": "Road"}}], "sort": "year"},
            "all[0].inPlaylist: keys name ignored (only `id` is used)",
        ),
        (
            {"all": [{"is": {"loved": True}}]},
            "no `sort`: Navidrome orders by title, so the rule set sorts by name",
        ),
    ],
)
def test_import_notes_what_has_no_exact_equivalent(document: dict[str, Any], note: str) -> None:
    assert note in import_nsp(document).notes


def test_import_ids_and_names() -> None:
    document = {"name": "Été 80's — Best!", "all": [{"is": {"loved": True}}]}
    assert import_nsp(document).rule_set.id == "ete-80-s-best"
    assert import_nsp(document, rule_id="summer").rule_set.id == "summer"
    unnamed = import_nsp({"all": [{"is": {"loved": True}}]}, name="Gym Mix")
    assert (unnamed.rule_set.id, unnamed.rule_set.name) == ("gym-mix", "Gym Mix")
    assert slugify("!!!") == "navidrome-playlist"


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ('{"all": [', None, "not JSON (line 1, column 10"),
        ("[1, 2]", None, "must be a JSON object, not a list"),
        ({"sort": "year"}, None, "no rules: the file needs a non-empty `all` or `any` list"),
        ({"all": []}, None, "no rules"),
        (
            {"all": [{"is": {"loved": True}}], "any": [{"is": {"year": 1}}]},
            None,
            "both `all` and `any`",
        ),
        ({"all": {"is": {"loved": True}}}, "all", "takes a list of expressions, not an object"),
        ({"all": ["loved"]}, "all[0]", "an expression is an object, not text"),
        ({"all": [{}]}, "all[0]", "an empty expression"),
        ({"all": [{"any": [{"is": "loved"}]}]}, "all[0].any[0].is", "takes an object"),
        (
            {"all": [{"inTheRange": {"year": [1990]}}]},
            "all[0].inTheRange.year",
            "`inTheRange` takes [low, high], not [1990]",
        ),
        (
            {"all": [{"inTheLast": {"lastplayed": "a week"}}]},
            "all[0].inTheLast.lastplayed",
            'a number of days must be a whole number, not "a week"',
        ),
        (
            {"all": [{"inTheLast": {"lastplayed": 1.5}}]},
            "all[0].inTheLast.lastplayed",
            "whole number",
        ),
        ({"all": [{"inPlaylist": {"name": "x"}}]}, "all[0].inPlaylist.id", "a playlist id"),
        ({"all": [{"is": {"title": None}}]}, "all[0].is.title", "a value is needed"),
        ({"all": [{"gt": {"year": [1, 2]}}]}, "all[0].gt.year", "not a list"),
        ({"all": [{"is": {"loved": True}}], "limit": -5}, "limit", "must not be negative"),
        ({"all": [{"is": {"loved": True}}], "limit": 2.5}, "limit", "whole number"),
        ({"all": [{"is": {"loved": True}}], "limit": 5, "limitPercent": 5}, None, "give one"),
        ({"all": [{"is": {"loved": True}}], "limitPercent": 150}, "limitPercent", "at most 100"),
        ({"all": [{"is": {"loved": True}}], "sort": ["year"]}, "sort", "must be text"),
        ({"all": [{"is": {"loved": True}}], "name": 7}, "name", "must be text"),
        ({"all": [{"is": {"loved": True}}], "comment": "x" * 2001}, "description", "2000"),
    ],
)
def test_invalid_files(data: Any, path: str | None, message: str) -> None:
    with pytest.raises(UnprocessableError) as caught:
        import_nsp(data)
    assert caught.value.code == "nsp_invalid"
    assert caught.value.status_code == 422
    assert caught.value.extra["path"] == path
    assert message in caught.value.detail
    if path:
        assert f"{path}: " in caught.value.detail


def test_too_deep_a_file_is_invalid() -> None:
    expression: dict[str, Any] = {"is": {"loved": True}}
    for _ in range(9):
        expression = {"all": [expression]}
    with pytest.raises(UnprocessableError, match="nested 10 deep"):
        import_nsp({"all": [expression]})


# --- export -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "expected", "notes"),
    [
        (_one("name", Op.EQ, "Hurt"), [{"is": {"title": "Hurt"}}], 0),
        (_one("title", Op.CONTAINS, "love"), [{"contains": {"title": "love"}}], 0),
        (_one("artist", Op.NE, "ABBA"), [{"isNot": {"artist": "ABBA"}}], 0),
        (_one("genres", Op.NOT_CONTAINS, "pop"), [{"notContains": {"genre": "pop"}}], 0),
        (_one("tempo", Op.BETWEEN, [120, 130]), [{"inTheRange": {"bpm": [120, 130]}}], 0),
        (_one("added_at", Op.IN_LAST, "30d"), [{"inTheLast": {"dateadded": 30}}], 0),
        # rewrites that keep the meaning (listed in notes)
        (_one("added_at", Op.IN_LAST, "2w"), [{"inTheLast": {"dateadded": 14}}], 1),
        (_one("lastplayed", Op.NOT_IN_LAST, "48h"), [{"notInTheLast": {"lastplayed": 2}}], 1),
        (_one("year", Op.GTE, 1990), [{"gt": {"year": 1989}}], 1),
        (_one("playcount", Op.LTE, 3), [{"lt": {"playcount": 4}}], 1),
        (
            _one("duration", Op.GTE, 240.5),
            [{"any": [{"gt": {"duration": 240.5}}, {"is": {"duration": 240.5}}]}],
            1,
        ),
        (_one("duration_ms", Op.GT, 300000), [{"gt": {"duration": 300}}], 1),
        (
            _one("genres", Op.HAS_ANY, ["rock", "indie"]),
            [{"any": [{"is": {"genre": "rock"}}, {"is": {"genre": "indie"}}]}],
            1,
        ),
        (
            _one("genres", Op.HAS_ALL, ["rock", "indie"]),
            [{"all": [{"is": {"genre": "rock"}}, {"is": {"genre": "indie"}}]}],
            1,
        ),
        (
            _one("mood", Op.HAS_NONE, ["sad", "angry"]),
            [{"all": [{"isNot": {"mood": "sad"}}, {"isNot": {"mood": "angry"}}]}],
            1,
        ),
        (_one("year", Op.IN, [1999]), [{"is": {"year": 1999}}], 1),
        # negation pushed down: De Morgan + operator twins
        (
            RuleGroup(
                negate=True,
                operator="or",
                conditions=[
                    RuleCondition(field="artists", operator=Op.CONTAINS, value="Nickelback"),
                    RuleCondition(field="genres", operator=Op.HAS_ALL, value=["pop", "dance"]),
                    RuleCondition(field="track", operator=Op.IN_PLAYLIST, value="p1"),
                    RuleGroup(
                        conditions=[
                            RuleCondition(field="liked", operator=Op.EQ, value=True),
                            RuleCondition(field="added_at", operator=Op.IN_LAST, value="7d"),
                        ]
                    ),
                ],
            ),
            [
                {"notContains": {"artist": "Nickelback"}},
                {"any": [{"isNot": {"genre": "pop"}}, {"isNot": {"genre": "dance"}}]},
                {"notInPlaylist": {"id": "p1"}},
                {"any": [{"isNot": {"loved": True}}, {"notInTheLast": {"dateadded": 7}}]},
            ],
            1,
        ),
    ],
)
def test_export_conditions(rules: RuleGroup, expected: list[dict[str, Any]], notes: int) -> None:
    exported = export_nsp(_rule_set(rules))
    assert exported.dropped == []
    key = "any" if rules.operator == "or" and not rules.negate else "all"
    assert exported.nsp[key] == expected
    assert len(exported.notes) == notes


@pytest.mark.parametrize(
    ("condition", "dropped"),
    [
        (
            RuleCondition(field="name", operator=Op.REGEX, value="(live|remaster)"),
            '`name matches "(live|remaster)"`: Navidrome has no regular expressions; the '
            'exported playlist is wider: it no longer requires `name matches "(live|remaster)"`',
        ),
        (
            RuleCondition(field="name", operator=Op.NOT_STARTS_WITH, value="Intro"),
            '`name not starts with "Intro"`: Navidrome has no `not starts with`; the exported '
            'playlist is wider: it no longer requires `name not starts with "Intro"`',
        ),
        (
            RuleCondition(field="track", operator=Op.IN_RULE, value="workout"),
            '`in rule "workout"`: Navidrome cannot refer to another rule set; the exported '
            'playlist is wider: it no longer requires `in rule "workout"`',
        ),
        (
            RuleCondition(field="isrc", operator=Op.EXISTS),
            "`isrc is present`: Navidrome has no a test for a present value; the exported "
            "playlist is wider: it no longer requires `isrc is present`",
        ),
        (
            RuleCondition(field="energy", operator=Op.GT, value=0.6),
            "`energy > 0.6`: Navidrome has no field `energy`; the exported playlist is wider: "
            "it no longer requires `energy > 0.6`",
        ),
        (
            RuleCondition(field="explicit", operator=Op.EQ, value=False),
            "`explicit = false`: Navidrome has no field for `explicit`; the exported playlist "
            "is wider: it no longer requires `explicit = false`",
        ),
        (
            RuleCondition(field="added_at", operator=Op.GTE, value="2020-01-01"),
            "`added_at >= 2020-01-01`: Navidrome has no `>=` except on numbers; the exported "
            "playlist is wider: it no longer requires `added_at >= 2020-01-01`",
        ),
        (
            RuleCondition(field="added_at", operator=Op.IN_LAST, value="36h"),
            "`added_at in last 36h`: Navidrome counts whole days only; the exported playlist "
            "is wider: it no longer requires `added_at in last 36h`",
        ),
        (
            RuleCondition(field="year", operator=Op.NOT_BETWEEN, value=[1990, 1999]),
            "`year not between 1990..1999`: Navidrome has no `not between` (outside a range); "
            "the exported playlist is wider: it no longer requires `year not between 1990..1999`",
        ),
    ],
)
def test_export_drops_what_navidrome_cannot_express(condition: RuleCondition, dropped: str) -> None:
    kept = RuleCondition(field="liked", operator=Op.EQ, value=True)
    exported = export_nsp(_rule_set(RuleGroup(conditions=[kept, condition])))
    assert exported.nsp["all"] == [{"is": {"loved": True}}]
    assert exported.dropped == [dropped]


def test_export_drop_inside_any_narrows_and_negation_without_twin_is_dropped() -> None:
    rules = RuleGroup(
        conditions=[
            RuleCondition(field="liked", operator=Op.EQ, value=True),
            RuleGroup(
                operator="or",
                conditions=[
                    RuleCondition(field="genres", operator=Op.CONTAINS, value="jazz"),
                    RuleCondition(field="danceability", operator=Op.GT, value=0.8),
                ],
            ),
            RuleGroup(
                negate=True, conditions=[RuleCondition(field="year", operator=Op.GT, value=2010)]
            ),
        ]
    )
    exported = export_nsp(_rule_set(rules))
    assert exported.nsp["all"] == [
        {"is": {"loved": True}},
        {"any": [{"contains": {"genre": "jazz"}}]},
    ]
    assert exported.dropped == [
        "`danceability > 0.8`: Navidrome has no field `danceability`; the exported playlist is "
        "narrower: tracks matched only by `danceability > 0.8` are left out",
        # `not (year > 2010)` becomes `any [not year > 2010]` (De Morgan), which has no form;
        # an empty `any` would match nothing, so the whole group is left out instead
        "`not (year > 2010)`: nothing in it can be expressed (Navidrome has no negation of "
        "`gt`), so the whole group is left out; the exported playlist is wider: it no longer "
        "requires `not (year > 2010)`",
    ]


def test_export_case_sensitive_is_exported_ignoring_case_and_says_so() -> None:
    rules = _one("name", Op.EQ, "ABBA", case_sensitive=True)
    exported = export_nsp(_rule_set(rules))
    assert exported.nsp["all"] == [{"is": {"title": "ABBA"}}]
    assert exported.dropped == [
        '`name = "ABBA" case sensitive`: Navidrome cannot compare case-sensitively; exported '
        "ignoring case, so it also matches other capitalisations"
    ]


def test_export_accent_insensitive_is_exported_as_written_and_says_so() -> None:
    rules = _one("artist", Op.NE, "Beyonce", accent_insensitive=True)
    exported = export_nsp(_rule_set(rules))
    assert exported.nsp["all"] == [{"isNot": {"artist": "Beyonce"}}]
    assert exported.dropped == [
        '`artist != "Beyonce" accent insensitive`: Navidrome compares accents exactly; '
        "exported as written, so it no longer excludes other accentuations"
    ]


def test_export_clauses_navidrome_cannot_express() -> None:
    rule_set = _rule_set(
        _one("liked", Op.EQ, True),
        sources=["liked", "playlist:37i9dQZF1DXcBWIGoYBM5M"],
        sort=[SortKey(field="energy", order="desc"), SortKey(field="random", seed=7)],
        limit=LimitSpec(value=90, unit="minutes", selected_by=[SortKey(field="added_at")]),
        dedupe="isrc",
        max_per_artist=2,
        include=["t1", "t2"],
        exclude=["t3"],
    )
    exported = export_nsp(rule_set)
    assert exported.nsp == {"name": "X", "all": [{"is": {"loved": True}}], "sort": "random"}
    assert exported.dropped == [
        "sort by energy: Navidrome has no field `energy`",
        "sort by random seed 7: Navidrome reshuffles on every refresh (no stable shuffle)",
        "limit selected by added_at asc: Navidrome chooses the tracks to keep by the sort order "
        "instead, so other tracks may be kept",
        "limit 90 minutes: Navidrome limits by tracks only; the exported playlist is wider "
        "(no limit)",
        "from liked, playlist:37i9dQZF1DXcBWIGoYBM5M: Navidrome takes every track of its "
        "library; the exported playlist is wider",
        "dedupe by isrc: Navidrome does not remove duplicates; the exported playlist may hold "
        "several versions of a song",
        "max 2 per artist: Navidrome has no per-artist cap; the exported playlist is wider",
        "include (pinned) 2 track(s): Navidrome cannot pin tracks; the exported playlist is "
        "narrower",
        "exclude (banned) 1 track(s): Navidrome cannot ban tracks; the exported playlist is wider",
    ]


@pytest.mark.parametrize(
    ("sort", "limit", "expected", "dropped"),
    [
        ([SortKey(field="name")], None, {}, 0),
        ([SortKey(field="year", order="desc")], None, {"sort": "year", "order": "desc"}, 0),
        ([SortKey(field="added_at")], LimitSpec(value=10), {"sort": "dateadded", "limit": 10}, 0),
        (
            [SortKey(field="random")],
            LimitSpec(value=5, unit="percent"),
            {
                "sort": "random",
                "limitPercent": 5,
            },
            0,
        ),
        (
            [SortKey(field="duration_ms", order="desc")],
            None,
            {"sort": "duration", "order": "desc"},
            0,
        ),
        ([], None, {}, 1),
        ([SortKey(field="name")], LimitSpec(value=2.5, unit="percent"), {}, 1),
    ],
)
def test_export_sort_and_limit(
    sort: list[SortKey], limit: LimitSpec | None, expected: dict[str, Any], dropped: int
) -> None:
    exported = export_nsp(_rule_set(_one("liked", Op.EQ, True), sort=sort, limit=limit))
    data = {k: v for k, v in exported.nsp.items() if k not in ("name", "all")}
    assert data == expected
    assert len(exported.dropped) == dropped


def test_export_empty_rules_matches_every_track() -> None:
    exported = export_nsp(_rule_set(description="Everything"))
    assert exported.nsp == {
        "name": "X",
        "comment": "Everything",
        "all": [{"gt": {"playcount": -1}}],
    }
    assert exported.notes and exported.dropped == []


def test_export_custom_navidrome_tags() -> None:
    rules = _one("energylevel", Op.GT, 5)
    assert export_nsp(_rule_set(rules)).dropped
    exported = export_nsp(_rule_set(rules), navidrome_fields=["EnergyLevel"])
    assert exported.nsp["all"] == [{"gt": {"energylevel": 5}}]
    assert exported.dropped == []


# --- round trips --------------------------------------------------------------------------------

_TEXT_FIELDS = ["name", "artists", "album", "genres", "mood", "comment", "albumartist", "isrc"]
_NUMBER_FIELDS = ["year", "duration", "tempo", "playcount", "rating", "tracknumber"]
_DATE_FIELDS = ["added_at", "release_date", "lastplayed", "dateloved"]

_words = st.text(alphabet="abcdefghij XYZ'&-", min_size=1, max_size=12)
_numbers = st.integers(min_value=0, max_value=3000) | st.floats(
    min_value=0, max_value=1000, allow_nan=False
).map(lambda f: round(f, 2))
_dates = st.dates().map(lambda d: d.isoformat())


def _conditions() -> st.SearchStrategy[RuleCondition]:
    text = st.builds(
        lambda f, op, v: RuleCondition(field=f, operator=op, value=v),
        st.sampled_from(_TEXT_FIELDS),
        st.sampled_from([Op.EQ, Op.NE, Op.CONTAINS, Op.NOT_CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH]),
        _words,
    )
    numbers = st.builds(
        lambda f, op, v: RuleCondition(field=f, operator=op, value=v),
        st.sampled_from(_NUMBER_FIELDS),
        st.sampled_from([Op.EQ, Op.NE, Op.GT, Op.LT]),
        _numbers,
    )
    ranges = st.builds(
        lambda f, a, b: RuleCondition(field=f, operator=Op.BETWEEN, value=sorted([a, b])),
        st.sampled_from(_NUMBER_FIELDS),
        st.integers(0, 500),
        st.integers(0, 500),
    )
    dates = st.builds(
        lambda f, op, v: RuleCondition(field=f, operator=op, value=v),
        st.sampled_from(_DATE_FIELDS),
        st.sampled_from([Op.BEFORE, Op.AFTER]),
        _dates,
    )
    spans = st.builds(
        lambda f, op, n: RuleCondition(field=f, operator=op, value=f"{n}d"),
        st.sampled_from(_DATE_FIELDS),
        st.sampled_from([Op.IN_LAST, Op.NOT_IN_LAST]),
        st.integers(0, 3650),
    )
    flags = st.builds(
        lambda v: RuleCondition(field="liked", operator=Op.EQ, value=v), st.booleans()
    )
    playlists = st.builds(
        lambda op, v: RuleCondition(field="track", operator=op, value=v),
        st.sampled_from([Op.IN_PLAYLIST, Op.NOT_IN_PLAYLIST]),
        st.uuids().map(str),
    )
    date_ranges = st.builds(
        lambda f, a, b: RuleCondition(field=f, operator=Op.BETWEEN, value=sorted([a, b])),
        st.sampled_from(_DATE_FIELDS),
        _dates,
        _dates,
    )
    return text | numbers | ranges | dates | spans | flags | playlists | date_ranges


def _groups(depth: int) -> st.SearchStrategy[RuleGroup]:
    child: st.SearchStrategy[RuleCondition | RuleGroup] = _conditions()
    if depth > 1:
        child = child | _groups(depth - 1)
    return st.builds(
        lambda op, children: RuleGroup(operator=op, conditions=children),
        st.sampled_from(["and", "or"]),
        st.lists(child, min_size=1, max_size=4),
    )


_sort_keys = st.lists(
    st.builds(
        SortKey,
        field=st.sampled_from(["name", "year", "added_at", "playcount", "random", "tempo"]),
        order=st.sampled_from(["asc", "desc"]),
    ),
    min_size=1,
    max_size=3,
)
_limits = (
    st.none()
    | st.builds(LimitSpec, value=st.integers(1, 500))
    | st.builds(LimitSpec, value=st.integers(1, 100), unit=st.just("percent"))
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=_groups(3), sort=_sort_keys, limit=_limits, comment=st.none() | _words)
def test_round_trips(
    rules: RuleGroup, sort: list[SortKey], limit: LimitSpec | None, comment: str | None
) -> None:
    rule_set = PlaylistRuleSet(
        id="round-trip",
        name="Round Trip",
        description=comment,
        rules=rules,
        sort=sort,
        limit=limit,
    )
    exported = export_nsp(rule_set)
    assert exported.dropped == []
    # import(export(x)) == x when nothing was dropped
    imported = import_nsp(json.dumps(exported.nsp), rule_id="round-trip")
    assert imported.rule_set == rule_set
    # export(import(nsp)) == nsp for a file of mapped fields and operators
    assert export_nsp(imported.rule_set).nsp == exported.nsp


@pytest.mark.parametrize(
    "document",
    [
        {"name": "Loved", "all": [{"is": {"loved": True}}]},
        {"name": "Random 50", "any": [{"gt": {"playcount": 0}}], "sort": "random", "limit": 50},
        {
            "name": "Recent",
            "all": [{"inTheLast": {"dateadded": 30}}, {"notInPlaylist": {"id": "xmas"}}],
            "sort": "dateadded",
            "order": "desc",
            "limitPercent": 25,
        },
        {
            "name": "Nested",
            "comment": "three levels",
            "any": [
                {"all": [{"any": [{"endsWith": {"album": "Deluxe"}}]}, {"lt": {"year": 1970}}]}
            ],
            "sort": "artist,-year",
        },
    ],
)
def test_files_round_trip_unchanged(document: dict[str, Any]) -> None:
    imported = import_nsp(document)
    assert export_nsp(imported.rule_set).nsp == document


def test_dates_export_with_a_note_on_navidrome_text_comparison() -> None:
    rules = _one("added_at", Op.BETWEEN, ["2020-01-01", "2020-12-31"])
    exported = export_nsp(_rule_set(rules))
    assert exported.nsp["all"] == [{"inTheRange": {"dateadded": ["2020-01-01", "2020-12-31"]}}]
    assert exported.dropped == []
    assert exported.notes == [
        "dates: Navidrome compares timestamps with the date as text, so on a timestamp field "
        "`after D` includes day D and `inTheRange [a, b]` stops at the start of day b, while we "
        "treat a date as its whole day (not rewritten)"
    ]
    assert import_nsp(exported.nsp).notes[-1] == exported.notes[0]


def test_field_names_that_import_under_another_name_are_noted() -> None:
    exported = export_nsp(_rule_set(_one("genre", Op.EQ, "rock")))
    assert exported.nsp["all"] == [{"is": {"genre": "rock"}}]
    assert exported.notes == ["`genre` is written as Navidrome `genre`, which imports as `genres`"]


def test_nothing_expressible_exports_every_track_and_says_so() -> None:
    rules = RuleGroup(
        operator="or",
        conditions=[
            RuleCondition(field="energy", operator=Op.GT, value=0.7),
            RuleGroup(conditions=[RuleCondition(field="name", operator=Op.REGEX, value="^Intro")]),
        ],
    )
    exported = export_nsp(_rule_set(rules))
    assert exported.nsp["all"] == [{"gt": {"playcount": -1}}]
    assert exported.dropped == [
        "`energy > 0.7`: Navidrome has no field `energy`; the exported playlist is narrower: "
        "tracks matched only by `energy > 0.7` are left out",
        '`name matches "^Intro"`: nothing in it can be expressed (Navidrome has no regular '
        "expressions), so the whole group is left out; the exported playlist is narrower: "
        'tracks matched only by `name matches "^Intro"` are left out',
        "no condition to export: Navidrome refuses a smart playlist without rules, so the export "
        'matches every track with `{"gt": {"playcount": -1}}`; the exported playlist holds the '
        "whole library",
    ]


def test_export_notes_the_sync_settings_a_nsp_has_no_place_for() -> None:
    rule_set = _rule_set(
        _one("year", RuleOperator.GT, 1990),
        target_playlist_name="Nineties",
        sync_mode="merge",
        auto_apply=False,
        enabled=False,
    )
    exported = export_nsp(rule_set)
    assert exported.dropped == []
    assert exported.notes[-2:] == [
        "target Nineties, mode merge, hold for review: how this tool syncs to Spotify; a .nsp "
        "has no place for it",
        "the rule set is disabled here; a .nsp cannot say so: Navidrome will run it",
    ]
    assert export_nsp(_rule_set(_one("year", RuleOperator.GT, 1990))).notes == []
