"""/data/rules (rule sets: CRUD, validate, parse, format, fields, evaluate) and the playlist
previews under /pipeline/playlists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SkipValidation

from app.api.bodies import DecodedJsonRoute
from app.api.deps import ServicesDep
from app.api.schemas import ERROR_RESPONSES, SERVER_ERROR_RESPONSES
from app.core.errors import UnprocessableError
from app.core.rules import MAX_RULE_TEXT_CHARS
from app.pipeline.query.starters import Starters, library_starters
from app.pipeline.rules.completion import RuleCompletion, completion
from app.pipeline.rules.engine.explain import Explanation
from app.pipeline.rules.fields.registry import FieldRow
from app.pipeline.rules.navidrome.exporter import NspExport
from app.pipeline.rules.overlaps import Overlaps, library_overlaps
from app.pipeline.rules.previews import (
    LibraryPreview,
    PayloadPreview,
    RuleSetCount,
    RuleSetCounts,
)
from app.pipeline.rules.rule_files import (
    RulesFilePreview,
    apply_rules_file,
    export_rule_sets,
    preview_rules_file,
)
from app.pipeline.rules.rule_sets import (
    RuleSetDocument,
    SavedRuleSet,
    ValidationReport,
    delete_rule_set,
    document,
    field_registry,
    get_rule_set,
    save_rule_set,
    stored_rule_sets,
    validation_report,
)
from app.pipeline.rules.service import (
    NspImportReport,
    count_rule_set,
    count_rule_sets,
    evaluate_group,
    explain_track,
    export_nsp_rules,
    format_document,
    import_nsp_rules,
    preview_library,
    preview_payload,
)
from app.pipeline.rules.text.parser import parse_rules
from app.pipeline.rules.text.printer import ParsedRules

router = APIRouter(
    tags=["rules"],
    responses={**ERROR_RESPONSES, **SERVER_ERROR_RESPONSES},
    # Payload previews carry tens of thousands of tracks: decoded once, by the middleware.
    route_class=DecodedJsonRoute,
)

RuleId = Annotated[str, Path(max_length=128, description="Rule set id.")]
RuleSetBody = Annotated[
    dict[str, Any],
    Body(
        description="A rule set as JSON, or JSON whose `text` holds it in the text syntax "
        "(all but the id and name: rules, clauses, pins, bans, target, mode…). A settings "
        "clause the text leaves out keeps the value of the JSON sent, else of the stored rule "
        "set (docs/rules.md).",
        examples=[
            {"id": "long", "name": "Long ones", "text": "duration > 300\nsort by duration desc"}
        ],
    ),
]


@router.get("/data/rules", summary="Every stored rule set, as JSON and as text")
def list_rules(services: ServicesDep) -> list[RuleSetDocument]:
    return [document(rs) for rs in stored_rule_sets(services.stores)]


@router.get("/data/rules/fields", summary="Fields rules may test: type, operators, coverage")
def fields(services: ServicesDep) -> list[FieldRow]:
    return field_registry(services.stores, services.library).describe()


class RulesFile(BaseModel):
    text: str = Field(
        description="A rules file: a `[id] Name` header per rule set, then its whole text "
        "(rules, clauses and settings); `sap rules apply-file` reads it back."
    )


@router.get(
    "/data/rules/export",
    summary="Rule sets as a rules file, each whole (as `sap rules export` writes)",
    description="Every stored rule set, or those of `ids` in that order (404 `rule_not_found` "
    "naming an unknown one). A stored rule set that cannot be read is named in a comment with "
    "its problems.",
)
def export_rules(
    services: ServicesDep,
    ids: Annotated[list[str] | None, Query(description="Only these rule sets.")] = None,
) -> RulesFile:
    return RulesFile(text=export_rule_sets(services.stores, ids or None))


@router.get(
    "/data/rules/completion",
    summary="What the rules editor completes: fields, the values tracks hold, rule sets",
)
def rules_completion(services: ServicesDep) -> RuleCompletion:
    return completion(services.stores, services.library)


@router.get("/data/rules/{rule_id}", summary="One rule set, as JSON and as text")
def get_rule(rule_id: RuleId, services: ServicesDep) -> RuleSetDocument:
    return document(get_rule_set(services.stores, rule_id))


@router.post(
    "/data/rules",
    summary="Create or replace a rule set (by id)",
    description=(
        "Saved only when valid (422 `rules_invalid` with every problem otherwise). A field no "
        "track has yet (its provider has not run) does not stop it: the answer lists it under "
        "`warnings`, naming the providers that would give it."
    ),
)
def upsert_rule(body: RuleSetBody, services: ServicesDep) -> SavedRuleSet:
    return save_rule_set(services.stores, body, services.library)


@router.delete(
    "/data/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule set"
)
def delete_rule(rule_id: RuleId, services: ServicesDep) -> Response:
    delete_rule_set(services.stores, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/data/rules/validate", summary="Check a rule set (JSON or text) without saving")
def validate_rule(body: RuleSetBody, services: ServicesDep) -> ValidationReport:
    return validation_report(services.stores, body, library=services.library)


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(
        description=f"Rules in the text syntax, at most {MAX_RULE_TEXT_CHARS:,} characters."
    )


@router.post("/data/rules/parse", summary="Text syntax → JSON (rules and clauses)")
def parse(body: TextBody) -> ParsedRules:
    return parse_rules(body.text)


class FormattedRules(BaseModel):
    text: str = Field(description="The rules (and clauses) in the text syntax.")


@router.post("/data/rules/format", summary="JSON rule set (or just its rules) → text syntax")
def format_(body: Annotated[dict[str, Any], Body()]) -> FormattedRules:
    return FormattedRules(text=format_document(body))


class EvaluateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: dict[str, Any] = Field(description="A rule group (operator, conditions…).")
    enrichment: dict[str, Any] = Field(
        default_factory=dict, description="The track's flat field → value map."
    )


class MatchResult(BaseModel):
    matches: bool


@router.post("/data/rules/evaluate", summary="Does one rule group match one enrichment map?")
def evaluate(body: EvaluateBody) -> MatchResult:
    return MatchResult(matches=evaluate_group(body.rules, body.enrichment))


def _objects(items: list[Any]) -> list[dict[str, Any]]:
    """A list of JSON objects, checked by type alone: pydantic would copy each of a payload's
    tens of thousands of tracks to check its keys are text, which JSON object keys always are
    (the body is decoded JSON: `app.api.bodies`)."""
    if type(items) is not list:
        raise ValueError("must be a list of objects")
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise ValueError(f"item {index} is not an object")
    return items


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[dict[str, Any]] | None = Field(
        default=None, description="Rule sets to preview; default: the stored enabled ones."
    )
    rule_ids: list[str] | None = Field(default=None, description="Only these stored rule sets.")
    tracks: Annotated[list[dict[str, Any]], SkipValidation, AfterValidator(_objects)] | None = (
        Field(
            default=None,
            description="Seed payload mode: `[{track_id, enrichment}]`; without it "
            "the fetched library and stored enrichments are used (library mode).",
        )
    )
    detail: bool = Field(
        default=False,
        strict=True,
        description="Library mode: add per track the stage that dropped it (`dropped`) and "
        "the rule sets it lands in (`partition.track_rules`). Large (14 MB at 100,000 "
        "tracks); `/pipeline/playlists/explain` says why for one track.",
    )


def _json(model: BaseModel) -> Response:
    """A large answer serialised once, straight from its model (what the engine built is
    already the answer: validating it again would cost more than the work itself)."""
    return Response(model.model_dump_json(), media_type="application/json")


@router.post(
    "/pipeline/playlists/preview-from-rules",
    response_model=LibraryPreview | PayloadPreview,
    summary="Which tracks each rule set's playlist would hold",
    description=(
        "Each rule set is evaluated on its own: one that cannot be (a regex RE2 cannot "
        "compile, an unknown `in_rule` target, a cycle, a reference to a broken rule set, a "
        "stored rule set that cannot be read) is listed under `broken` with its problems, "
        "and the others are previewed. A request whose `rules` are not rule sets at all is "
        "refused (422). In payload mode `broken` is left out when empty (the seed's shape). "
        "Library mode answers ids, counts, minutes and what each stage removed (`removed`); "
        "the per-track detail only with `detail`."
    ),
)
def preview(body: PreviewBody, services: ServicesDep) -> Response:
    if body.tracks is not None:
        if body.rules is None:
            raise UnprocessableError(
                "payload mode needs `rules` with the `tracks`", code="rules_invalid"
            )
        return _json(preview_payload(body.rules, body.tracks))
    return _json(
        preview_library(
            services.stores,
            services.library,
            rules=body.rules,
            ids=body.rule_ids,
            detail=body.detail,
        )
    )


@router.post(
    "/pipeline/playlists/count",
    summary="One rule set's count and minutes, and what each stage removed",
    description=(
        "What the rules editor asks while typing: the rule set (JSON, or JSON whose `text` "
        "holds the rules), saved or not, over the loaded library; only it and the stored rule "
        "sets it refers to are evaluated. One with a problem is refused (422 `rules_invalid` "
        "with every problem, as `/data/rules/validate` names them)."
    ),
)
def count(body: RuleSetBody, services: ServicesDep) -> RuleSetCount:
    return count_rule_set(services.stores, services.library, body)


class CountsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule_ids: list[Annotated[str, Field(max_length=128)]] | None = Field(
        default=None,
        description="Only these stored rule sets; empty or absent: every one, disabled ones too.",
    )


@router.post(
    "/pipeline/playlists/counts",
    summary="Every stored rule set's count and minutes, without track ids (the rules list)",
    description=(
        "What the rules list shows: per stored rule set (`rule_ids`, else every one, disabled "
        "ones too) the figures its library preview gives (count, minutes, candidates, matched, "
        "what each stage removed, warnings), without track ids or per-node counts; one that "
        "cannot be evaluated is listed under `broken` and the others are counted. An unknown "
        "id is refused (404 `rule_not_found`), as the preview refuses it."
    ),
)
def counts(body: CountsBody, services: ServicesDep) -> RuleSetCounts:
    return count_rule_sets(services.stores, services.library, ids=body.rule_ids)


class ExplainBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_id: str = Field(max_length=200)
    rule_id: str | None = None
    rule: dict[str, Any] | None = Field(default=None, description="A rule set not stored yet.")


@router.post("/pipeline/playlists/explain", summary="Why a track is (not) in a playlist")
def explain(body: ExplainBody, services: ServicesDep) -> Explanation:
    target: str | dict[str, Any] | None = body.rule if body.rule is not None else body.rule_id
    if target is None:
        raise UnprocessableError("give `rule_id` or `rule`", code="rules_invalid")
    return explain_track(services.stores, services.library, body.track_id, target)


class NspImportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nsp: dict[str, Any] = Field(description="The .nsp file's JSON.")
    id: str | None = Field(default=None, description="Rule set id (default: from the name).")
    name: str | None = None


@router.post("/data/rules/import-nsp", summary="Import a Navidrome smart playlist (.nsp)")
def import_nsp(body: NspImportBody, services: ServicesDep) -> NspImportReport:
    return import_nsp_rules(services.stores, body.nsp, rule_id=body.id, name=body.name)


@router.get(
    "/data/rules/{rule_id}/export-nsp",
    summary="A rule set as a Navidrome .nsp file, with what it cannot express",
)
def export_nsp(rule_id: RuleId, services: ServicesDep) -> NspExport:
    return export_nsp_rules(services.stores, rule_id)


@router.get(
    "/pipeline/playlists/overlaps",
    summary="Where the enabled rule sets' playlists overlap, and the liked songs in none",
    description=(
        "From the library-mode preview: a matrix of the tracks each pair of enabled rule sets "
        "shares (the diagonal: each playlist's size), the pairs sharing tracks, the tracks in "
        "two playlists or more, and the liked songs in none. Each group carries its tracks as "
        "a filter for `POST /data/library/query`. Broken rule sets are listed under `broken`."
    ),
)
def overlaps(services: ServicesDep) -> Overlaps:
    return library_overlaps(services.stores, services.library)


@router.get(
    "/pipeline/playlists/starters",
    summary="Rule sets to start from, built from your library, each with its live count",
    description=(
        "At least six: your top genres, your main decade, fast (tempo > 140), added in the "
        "last 30 days, liked but in no playlist, a mood (or calm) from the enrichments. Each "
        "has its text, why it is offered, its count and minutes now, and under `needs` the "
        "enrichment to run when the library lacks its data."
    ),
)
def starters(services: ServicesDep) -> Starters:
    return library_starters(services.stores, services.queries)


class RulesFileBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(
        max_length=10 * MAX_RULE_TEXT_CHARS,
        description="A rules file: each rule set starts with an `[id] Name` line, its rules "
        'follow in the text syntax (docs/rules.md, "Rule files").',
    )


@router.post(
    "/data/rules-file/check",
    summary="What applying a rules file would change (writes nothing)",
    description="Each rule set new, changed, unchanged or invalid (with its problems), the "
    "file's own errors (`in_rule` cycles), and the stored rule sets it leaves alone.",
)
def check_rules_file(body: RulesFileBody, services: ServicesDep) -> RulesFilePreview:
    return preview_rules_file(services.stores, body.text)


@router.post(
    "/data/rules-file",
    summary="Apply a rules file: every rule set saved, or none (as `sap rules apply-file`)",
    description="Refused (422 `rules_invalid`, every problem named) when one rule set is "
    "invalid; then nothing is saved. Stored rule sets the file does not name are kept.",
)
def apply_file(body: RulesFileBody, services: ServicesDep) -> list[SavedRuleSet]:
    return apply_rules_file(services.stores, body.text)
