"""Settings: env prefix, .env file, defaults outside the repository, host lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import Settings, default_cache_dir, is_loopback_host


def test_cache_dir_defaults_to_the_user_data_dir_not_the_working_tree(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.cache_dir == default_cache_dir().resolve()
    assert "spotify-auto-playlists" in settings.cache_dir.parts
    assert not settings.cache_dir.is_relative_to(Path.cwd())


def test_environment_variables_use_the_sap_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SAP_CACHE_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SAP_JOB_WORKERS", "5")
    monkeypatch.setenv("SAP_ALLOWED_HOSTS", "music.lan, box.local")
    settings = Settings()
    assert settings.cache_dir == (tmp_path / "data").resolve()
    assert settings.job_workers == 5
    assert settings.allowed_hosts == ["music.lan", "box.local"]


def test_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SAP_PORT=9999\nSAP_LOG_LEVEL=debug\n")
    settings = Settings()
    assert settings.port == 9999
    assert settings.log_level == "DEBUG"


def test_explicit_values_beat_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SAP_PORT", "9000")
    assert Settings(port=9100).port == 9100


@pytest.mark.parametrize(
    ("name", "value"),
    [("SAP_PORT", "0"), ("SAP_PORT", "http"), ("SAP_JOB_WORKERS", "0"), ("SAP_LOG_LEVEL", "loud")],
)
def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_accepted_hosts_are_loopback_plus_bind_address_plus_extras() -> None:
    settings = Settings(host="192.168.1.20", allowed_hosts=["music.lan"])
    hosts = settings.accepted_hosts()
    assert {"127.0.0.1", "localhost", "::1", "192.168.1.20", "music.lan"} <= hosts
    assert "0.0.0.0" not in Settings(host="0.0.0.0").accepted_hosts()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("192.168.1.2", False),
        ("example.com", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
