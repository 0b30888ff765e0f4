"""The provider registry: each provider declared once (id, run order, rank, settings), the
precedence built from it, and a user's override checked against it."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.errors import UnprocessableError
from app.core.models import TrackEnrichment
from app.pipeline.rules.library import enrichment_view
from app.pipeline.rules.library.enrichment_view import build_enrichment_view
from app.pipeline.services import Services
from app.providers.base import BatchOutcome, EnrichItem, FeatureProvider
from app.providers.http import ProviderNet
from app.providers.registry import (
    PROVIDERS,
    Precedence,
    ProviderEntry,
    ProviderRegistry,
    configured_precedence,
    list_feature_providers,
)
from tests.helpers.cli import sap
from tests.helpers.paths import REPO

ROOT = REPO


def test_the_default_precedence_is_the_registry_ranks() -> None:
    assert PROVIDERS.precedence().names == (
        "manual",
        "llm",
        "musicbrainz",
        "deezer",
        "reccobeats",
        "acousticbrainz",
        "lastfm",
    )
    # Run order is the registry's own order: MusicBrainz before AcousticBrainz, which reads it.
    ids = PROVIDERS.ids()
    assert ids.index("musicbrainz") < ids.index("acousticbrainz")
    assert [row["id"] for row in list_feature_providers(Settings())] == list(ids)


def test_settings_name_no_provider_the_registry_gives_the_order() -> None:
    assert Settings().enrichment_precedence == []
    assert configured_precedence(Settings()) == PROVIDERS.precedence()
    source = (ROOT / "app/core/config.py").read_text(encoding="utf-8")
    assert '"reccobeats",' not in source and '"acousticbrainz",' not in source


def test_the_enrichment_view_has_no_order_of_its_own() -> None:
    assert not hasattr(enrichment_view, "DEFAULT_PRECEDENCE")
    parameter = inspect.signature(build_enrichment_view).parameters["precedence"]
    assert parameter.default is inspect.Parameter.empty


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ([], ("manual", "llm", "musicbrainz", "deezer", "reccobeats", "acousticbrainz", "lastfm")),
        (
            ["lastfm", "deezer"],
            ("lastfm", "deezer", "manual", "llm", "musicbrainz", "reccobeats", "acousticbrainz"),
        ),
        (
            ["llm:gpt-4o", "deezer", "deezer"],
            (
                *("llm:gpt-4o", "deezer", "manual", "llm"),
                *("musicbrainz", "reccobeats", "acousticbrainz", "lastfm"),
            ),
        ),
    ],
)
def test_an_override_comes_first_and_the_others_follow_by_rank(
    override: list[str], expected: tuple[str, ...]
) -> None:
    assert PROVIDERS.precedence(override).names == expected


def test_an_override_decides_which_value_a_view_shows() -> None:
    entries = [
        TrackEnrichment(source="deezer", categories={"tempo": 121.0}),
        TrackEnrichment(source="lastfm", categories={"tempo": 99.0}),
        TrackEnrichment(source="manual", categories={"mood": "calm"}),
        TrackEnrichment(source="llm:gpt-4o", categories={"mood": "sad"}),
    ]
    default = build_enrichment_view(entries, PROVIDERS.precedence())
    assert default["tempo"] == 121.0
    custom = build_enrichment_view(entries, configured_precedence(_settings(["lastfm"])))
    assert custom["tempo"] == 99.0 and custom.provenance["tempo"] == "lastfm"
    assert custom["mood"] == "calm"  # manual values always win


def _settings(precedence: Sequence[str], **extra: object) -> Settings:
    return Settings(enrichment_precedence=list(precedence), **extra)  # type: ignore[arg-type]


def test_an_unknown_provider_in_the_override_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnprocessableError) as caught:
        Services.from_settings(
            _settings(["deezer", "deezr"], cache_dir=tmp_path, spotify_client_id="x")
        )
    assert caught.value.code == "unknown_provider"
    assert "SAP_ENRICHMENT_PRECEDENCE" in caught.value.detail
    assert "'deezr'" in caught.value.detail and "known: musicbrainz, deezer" in caught.value.detail


def test_the_cli_says_which_precedence_name_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAP_ENRICHMENT_PRECEDENCE", "lastfm, deezr")
    code, _out, err = sap(tmp_path / "cache", "rules", "list")
    assert code == 1
    assert "SAP_ENRICHMENT_PRECEDENCE: unknown provider 'deezr'" in " ".join(err.split())


def test_the_environment_override_reaches_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAP_ENRICHMENT_PRECEDENCE", "lastfm,deezer")
    services = Services.from_settings(Settings(cache_dir=tmp_path, spotify_client_id="x"))
    assert services.library.precedence.names[:3] == ("lastfm", "deezer", "manual")


class _Echo(FeatureProvider):
    """A provider of this test, declared like the real ones."""

    id = "echo"
    settings_used = ("contact",)

    async def enrich_batch(self, items: Sequence[EnrichItem], net: ProviderNet) -> BatchOutcome:
        return BatchOutcome()


def test_a_new_provider_is_one_entry_with_its_rank() -> None:
    manual = PROVIDERS.provider("manual")
    registry = ProviderRegistry([ProviderEntry(_Echo, rank=1), ProviderEntry(manual, rank=0)])
    assert registry.ids() == ("echo", "manual")
    assert registry.precedence().names == ("manual", "echo")
    assert ProviderEntry(_Echo, rank=1).settings == ("contact",)
    with pytest.raises(ValueError, match="same rank"):
        ProviderRegistry([ProviderEntry(_Echo, rank=1), ProviderEntry(manual, rank=1)])
    with pytest.raises(ValueError, match="two providers have the id 'echo'"):
        ProviderRegistry([ProviderEntry(_Echo, rank=1), ProviderEntry(_Echo, rank=2)])


def test_every_provider_declares_settings_that_exist_and_is_documented() -> None:
    documented = (ROOT / "docs" / "providers.md").read_text(encoding="utf-8")
    for provider_id in PROVIDERS.ids():
        provider = PROVIDERS.provider(provider_id)
        assert set(provider.settings_used) <= set(Settings.model_fields), provider_id
        assert f"`{provider_id}`" in documented, provider_id


def test_precedence_ranks_sources() -> None:
    order = Precedence(["llm", "deezer"])
    assert order.rank("llm:gpt-4o") == 0
    assert order.rank("deezer") == 1
    assert order.rank("lastfm") == 2
    assert order.rank("manual") == -1
    assert order == Precedence(("llm", "deezer")) and order != Precedence(["deezer"])
