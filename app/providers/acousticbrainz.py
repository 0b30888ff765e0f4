"""AcousticBrainz: moods, danceability, voice/instrumental… of a MusicBrainz recording.

AcousticBrainz closed in 2023; its final CC0 data dump and mirrors of its old API remain, so
this provider reads one or the other (`SAP_ACOUSTICBRAINZ_DUMP_DIR`,
`SAP_ACOUSTICBRAINZ_URL`; disabled when neither is set). It looks recordings up by the
`recording_mbid` the MusicBrainz provider found: a track without one is *not applicable*
("needs MusicBrainz first").

- **Dump** (a directory): the real layout,
  `<dir>/**/<mbid[0:2]>/<mbid[2:4]>/<mbid>-<n>.json` (one file per analysis submission
  `n`), and flat `<dir>/<mbid>.json` files. `DumpIndex` is built once per run, when the first
  batch needs it: it walks the tree but not the shard folders (named by hex digits), which it
  lists only when an MBID's prefix leads into them, so a dump of a million files costs a few
  directory listings per batch. Of several submissions the lowest `n` that reads wins. A file
  that is not JSON or has no `highlevel` object fails that track, with the file named.
- **Mirror** of the old API: `GET {url}/api/v1/high-level?recording_ids=a;b…`, up to 25
  MBIDs per request, answering `{mbid: {"0": {"highlevel": …, "metadata": …}}}`. With both set,
  the mirror is asked only about recordings the dump lacks.

Categories, from the high-level classifiers (`highlevel.<name>.{value, probability, all}`):
`danceable` and `mood_happy`, `mood_sad`, `mood_relaxed`, `mood_aggressive`, `mood_party`,
`mood_electronic`, `mood_acoustic` (probability of the positive class, 0..1, 3 decimals),
`voice_instrumental` ("voice"/"instrumental"), `tonal` (bool), `gender` ("female"/"male",
when the document has it). The match is by MBID, with MusicBrainz's confidence in it.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from app.core.config import Settings
from app.core.errors import UpstreamError
from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider, FieldSpec
from app.providers.http import ProviderNet, get_json

MIRROR_BATCH = 25  # the old API's limit per bulk request
MIRROR_RATE = 5.0  # requests/s to a mirror; none publishes a number, be polite
MBID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_MBID = re.compile(rf"^{MBID_PATTERN}$")
_DUMP_FILE = re.compile(rf"^({MBID_PATTERN})(?:-(\d+))?\.json$", re.IGNORECASE)
_SHARD = re.compile(r"^[0-9a-f]{1,2}$")
_SHARD_DEPTH = 8  # shard folders name (part of) the first 8 hex digits, which hold no dash

# category -> (classifier, its positive class)
PROBABILITIES: Mapping[str, tuple[str, str]] = {
    "danceable": ("danceability", "danceable"),
    "mood_happy": ("mood_happy", "happy"),
    "mood_sad": ("mood_sad", "sad"),
    "mood_relaxed": ("mood_relaxed", "relaxed"),
    "mood_aggressive": ("mood_aggressive", "aggressive"),
    "mood_party": ("mood_party", "party"),
    "mood_electronic": ("mood_electronic", "electronic"),
    "mood_acoustic": ("mood_acoustic", "acoustic"),
}
_NEGATIVE = {"danceable": "not_danceable"}  # other classifiers' negatives are "not_<positive>"


class MalformedDocument(ValueError):
    """A high-level document we cannot read."""


# -- reading a high-level document ------------------------------------------------------------


def _probability(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None


def positive_probability(classifier: Any, positive: str) -> float | None:
    """P(positive class) of `{value, probability, all}`, from `all` or else the value."""
    if not isinstance(classifier, Mapping):
        return None
    classes = classifier.get("all")
    if isinstance(classes, Mapping) and positive in classes:
        return _probability(classes[positive])
    share = _probability(classifier.get("probability"))
    value = classifier.get("value")
    if share is None or not isinstance(value, str):
        return None
    if value == positive:
        return share
    return 1 - share if value == _NEGATIVE.get(positive, f"not_{positive}") else None


def classifier_value(classifier: Any, allowed: frozenset[str]) -> str | None:
    value = classifier.get("value") if isinstance(classifier, Mapping) else None
    return value if isinstance(value, str) and value in allowed else None


def categories_of(document: Any) -> dict[str, Any]:
    """Our categories from one high-level document (raises `MalformedDocument`)."""
    highlevel = document.get("highlevel") if isinstance(document, Mapping) else None
    if not isinstance(highlevel, Mapping):
        raise MalformedDocument("no `highlevel` object")
    found: dict[str, Any] = {}
    for category, (name, positive) in PROBABILITIES.items():
        share = positive_probability(highlevel.get(name), positive)
        if share is not None:
            found[category] = round(share, 3)
    voice = classifier_value(
        highlevel.get("voice_instrumental"), frozenset({"voice", "instrumental"})
    )
    tonal = classifier_value(highlevel.get("tonal_atonal"), frozenset({"tonal", "atonal"}))
    gender = classifier_value(highlevel.get("gender"), frozenset({"female", "male"}))
    found["voice_instrumental"] = voice
    found["tonal"] = None if tonal is None else tonal == "tonal"
    found["gender"] = gender
    if all(value is None for value in found.values()):
        raise MalformedDocument("none of the high-level classifiers we read")
    return found


def read_document(path: Path) -> Any:
    """The parsed JSON of a dump file (raises `MalformedDocument`)."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise MalformedDocument(f"cannot read it ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError:
        raise MalformedDocument("not JSON") from None


# -- the dump ---------------------------------------------------------------------------------


class DumpIndex:
    """Where each recording's dump files are (see the module docstring); thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[tuple[int, Path]]] = {}
        self._shard_roots: list[Path] = []
        self._shards: dict[Path, list[Path]] = {}  # listed folder -> its shard subfolders
        self._built = False
        self._lock = threading.Lock()

    def files(self, mbid: str) -> list[Path]:
        """The dump files of `mbid`, lowest submission first."""
        with self._lock:
            if not self._built:
                self._build()
            for root in self._shard_roots:
                self._descend(root, mbid.replace("-", ""), 0)
            return [path for _, path in sorted(self._files.get(mbid, ()))]

    def _build(self) -> None:
        """Walk the tree, except shard folders (left for `_descend`)."""
        folders = [self.root]
        seen: set[Path] = set()  # a symlink loop is walked once
        while folders:
            folder = folders.pop()
            if folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
            shards, others = self._list(folder)
            if shards:
                self._shard_roots.append(folder)
            folders += others
        self._built = True

    def _list(self, folder: Path) -> tuple[list[Path], list[Path]]:
        """Index `folder`'s dump files; return its shard subfolders and its other subfolders."""
        shards: list[Path] = []
        others: list[Path] = []
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            return [], []
        for entry in entries:
            if entry.is_dir():
                (shards if _SHARD.match(entry.name) else others).append(Path(entry.path))
                continue
            match = _DUMP_FILE.match(entry.name)
            if match:
                submission = int(match.group(2) or 0)
                mbid = match.group(1).lower()
                self._files.setdefault(mbid, []).append((submission, Path(entry.path)))
        self._shards[folder] = shards
        return shards, others

    def _descend(self, folder: Path, digits: str, depth: int) -> None:
        """List the shard folders on the way to `digits` (an MBID without dashes)."""
        if depth >= _SHARD_DEPTH:
            return
        for shard in self._shards.get(folder, []):
            name = shard.name.lower()
            if digits[depth : depth + len(name)] != name:
                continue
            if shard not in self._shards:
                self._list(shard)
            self._descend(shard, digits, depth + len(name))


def read_from_dump(
    index: DumpIndex, mbids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Categories of the MBIDs the dump has, and why others' files could not be read."""
    found: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for mbid in mbids:
        problems: list[str] = []
        for path in index.files(mbid):
            try:
                found[mbid] = categories_of(read_document(path))
                break
            except MalformedDocument as exc:
                problems.append(f"{path.name}: {exc}")
        if mbid not in found and problems:
            errors[mbid] = "AcousticBrainz dump file unusable: " + "; ".join(problems)
    return found, errors


@dataclass
class _RunState:
    index: DumpIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


# -- the provider -----------------------------------------------------------------------------


class AcousticBrainzProvider(FeatureProvider):
    """High-level audio classifiers of MusicBrainz recordings, from a dump or a mirror."""

    id = "acousticbrainz"
    reads = ("musicbrainz",)  # the recording MBIDs it looks up
    type = "dump"
    version = "1"
    description = (
        "AcousticBrainz high-level data (moods, danceability, voice/instrumental) from its "
        "final data dump or a mirror of its API; needs MusicBrainz recording ids."
    )
    fields = (
        FieldSpec("danceable", "number", "Probability the track is danceable (0..1)"),
        FieldSpec("mood_happy", "number", "Probability of a happy mood (0..1)"),
        FieldSpec("mood_sad", "number", "Probability of a sad mood (0..1)"),
        FieldSpec("mood_relaxed", "number", "Probability of a relaxed mood (0..1)"),
        FieldSpec("mood_aggressive", "number", "Probability of an aggressive mood (0..1)"),
        FieldSpec("mood_party", "number", "Probability of a party mood (0..1)"),
        FieldSpec("mood_electronic", "number", "Probability it sounds electronic (0..1)"),
        FieldSpec("mood_acoustic", "number", "Probability it sounds acoustic (0..1)"),
        FieldSpec("voice_instrumental", "text", '"voice" or "instrumental"'),
        FieldSpec("tonal", "boolean", "Tonal (true) or atonal"),
        FieldSpec("gender", "text", 'Singer\'s gender, "female" or "male", when analysed'),
    )
    match_methods = ("mbid",)
    batch_size = MIRROR_BATCH
    rate_limit = MIRROR_RATE  # a mirror's pace; reading a dump needs none
    settings_used = ("acousticbrainz_dump_dir", "acousticbrainz_url")

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._runs: weakref.WeakKeyDictionary[ProviderNet, _RunState] = weakref.WeakKeyDictionary()

    def disabled_reason(self) -> str | None:
        dump, url = self.settings.acousticbrainz_dump_dir, self.settings.acousticbrainz_url
        if dump is None and not url:
            return (
                "AcousticBrainz closed in 2023: set SAP_ACOUSTICBRAINZ_DUMP_DIR to its "
                "high-level data dump or SAP_ACOUSTICBRAINZ_URL to a mirror of its API"
            )
        if dump is not None and not dump.is_dir():
            return f"SAP_ACOUSTICBRAINZ_DUMP_DIR {dump} is not a directory"
        return None

    def applicable(self, item: EnrichItem) -> str | None:
        if item.track.is_local:
            return "local file"
        mbid = item.category("musicbrainz", "recording_mbid")
        if not isinstance(mbid, str) or not _MBID.match(mbid.lower()):
            return "needs MusicBrainz first (no recording id)"
        return None

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        mbid_of = {item.id: _recording_mbid(item) for item in items}
        mbids = list(dict.fromkeys(mbid_of.values()))
        found: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        if self.settings.acousticbrainz_dump_dir is not None:
            index = self._dump_index(net, self.settings.acousticbrainz_dump_dir)
            found, errors = await asyncio.to_thread(read_from_dump, index, mbids)
        if self.settings.acousticbrainz_url:
            unread = [mbid for mbid in mbids if mbid not in found and mbid not in errors]
            mirrored, mirror_errors = await self._ask_mirror(net, unread)
            found.update(mirrored)
            errors.update(mirror_errors)
        outcome = BatchOutcome()
        for item in items:
            mbid = mbid_of[item.id]
            if mbid in found:
                confidence = _musicbrainz_confidence(item)
                outcome.found(item, self.entry(found[mbid], method="mbid", confidence=confidence))
            elif mbid in errors:
                outcome.fail(item, errors[mbid])
            else:
                outcome.missing(item)
        return outcome

    def _dump_index(self, net: ProviderNet, root: Path) -> DumpIndex:
        """This run's index of the dump (built by its first lookup)."""
        state = self._runs.setdefault(net, _RunState())
        with state.lock:
            if state.index is None:
                state.index = DumpIndex(root)
            return state.index

    async def _ask_mirror(
        self, net: ProviderNet, mbids: Sequence[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        found: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        if not mbids:
            return found, errors
        mirror = net.client(str(self.settings.acousticbrainz_url), rate=self.rate_limit)
        for start in range(0, len(mbids), MIRROR_BATCH):
            chunk = mbids[start : start + MIRROR_BATCH]
            body = await get_json(
                mirror, "/api/v1/high-level", params={"recording_ids": ";".join(chunk)}
            )
            if not isinstance(body, Mapping):
                raise UpstreamError(
                    f"{mirror.service} sent high-level data that is not an object",
                    code="provider_bad_response",
                )
            for mbid in chunk:
                submissions = body.get(mbid)
                if submissions is None:
                    continue
                try:
                    found[mbid] = categories_of(_first_submission(submissions))
                except MalformedDocument as exc:
                    errors[mbid] = f"AcousticBrainz mirror sent unusable data for {mbid}: {exc}"
        return found, errors


def _first_submission(submissions: Any) -> Any:
    """The lowest-numbered submission of `{"0": document, "1": …}`."""
    if not isinstance(submissions, Mapping):
        raise MalformedDocument("submissions are not an object")
    numbered = [key for key in submissions if str(key).isdigit()]
    if not numbered:
        raise MalformedDocument("no numbered submission")
    return submissions[min(numbered, key=int)]


def _recording_mbid(item: EnrichItem) -> str:
    return str(item.category("musicbrainz", "recording_mbid")).lower()


def _musicbrainz_confidence(item: EnrichItem) -> float | None:
    """How sure MusicBrainz was that the recording is this track's."""
    entry = item.entries.get("musicbrainz")
    return entry.confidence if entry is not None else None
