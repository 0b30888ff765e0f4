"""The LLM emulator: OpenAI's response and error shapes, answers derived from the library truth
(tracks found by their text, unknown ones guessed), keys, models, rate limit and the seeded
malformed / schema-violating answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from app.emulators.common.clock import Clock
from app.emulators.common.transport import emulator_transport
from app.emulators.library.model import GeneratedLibrary, GeneratedTrack
from app.emulators.llm.answers import OCCASIONS, energy_level, occasion
from app.emulators.llm.emulator import LlmConfig, LlmEmulator

from .conftest import ALBUMS, TRACKS, tiny_library

pytestmark = pytest.mark.anyio
BASE = "http://emulators.test/llm/v1"
KEY = "sk-emulated"


def llm_library() -> GeneratedLibrary:
    """The tiny library with varied truths: t1 several genres, t2 calm and low energy, t3 no
    first-release year (its album's 2001 counts), t4 unknown energy."""
    library = tiny_library()
    tracks = dict(library.tracks)

    def change(name: str, **truth: Any) -> None:
        track = tracks[TRACKS[name]]
        tracks[track.id] = replace(track, truth=replace(track.truth, **truth))

    change("t1", genres=("pop", "synthpop", "electropop"), energy=0.71, first_release_year=1987)
    change("t2", mood="calm", energy=0.12, language="zxx")
    change("t3", first_release_year=None)
    change("t4", mood="dark", energy=None)
    return replace(library, tracks=tracks)


@pytest.fixture
def llm(clock: Clock) -> LlmEmulator:
    return LlmEmulator(llm_library(), clock=clock)


@pytest.fixture
async def client(llm: LlmEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(llm.app, root_path="/llm/v1")
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def prompt_entry(llm: LlmEmulator, name: str, key: str) -> dict[str, Any]:
    track = llm.library.tracks[TRACKS[name]]
    album = llm.library.albums[track.album_id]
    artists = [llm.library.artists[artist_id].name for artist_id in track.artist_ids]
    year = int(album.release_date[:4])
    return {"id": key, "title": track.name, "artists": artists, "album": album.name, "year": year}


def chat_body(entries: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    listing = json.dumps(entries, ensure_ascii=False)
    return {
        "model": "any-model",
        "messages": [
            {"role": "system", "content": "You describe tracks. Answer in JSON."},
            {"role": "user", "content": f"Describe these tracks:\n{listing}"},
        ],
        **extra,
    }


async def chat(client: httpx.AsyncClient, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await client.post("/chat/completions", json=body, headers=headers)


def content_of(response: httpx.Response) -> str:
    content = response.json()["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


def answer_of(response: httpx.Response) -> list[dict[str, Any]]:
    tracks = json.loads(content_of(response))["tracks"]
    assert isinstance(tracks, list)
    return tracks


def track(llm: LlmEmulator, name: str) -> GeneratedTrack:
    return llm.library.tracks[TRACKS[name]]


# -- answers -------------------------------------------------------------------------------


async def test_a_completion_has_openai_shape(client: httpx.AsyncClient) -> None:
    body = chat_body([], temperature=0.2)
    response = await chat(client, body)
    assert response.status_code == 200
    data = response.json()
    assert data["id"].startswith("chatcmpl-")
    assert (data["object"], data["model"]) == ("chat.completion", "any-model")
    assert isinstance(data["created"], int)
    assert data["choices"][0]["index"] == 0
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["choices"][0]["message"]["role"] == "assistant"
    usage = data["usage"]
    prompt_chars = sum(len(message["content"]) for message in body["messages"])
    assert usage["prompt_tokens"] == -(-prompt_chars // 4)
    assert usage["completion_tokens"] == -(-len(content_of(response)) // 4)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert json.loads(content_of(response)) == {"tracks": []}


async def test_answers_derive_from_the_truth(llm: LlmEmulator, client: httpx.AsyncClient) -> None:
    names = ["t1", "t2", "t3", "t4", "t5"]
    entries = [prompt_entry(llm, name, f"k{n}") for n, name in enumerate(names)]
    answer = answer_of(await chat(client, chat_body(entries)))
    assert answer == [
        {"id": "k0", "mood": "happy", "subgenre": "electropop", "energy_level": "high",
         "language": "en", "occasion": "party", "era": "1980s", "confidence": 0.9},
        {"id": "k1", "mood": "calm", "subgenre": "indie rock", "energy_level": "low",
         "language": "zxx", "occasion": "sleep", "era": "2000s", "confidence": 0.9},
        {"id": "k2", "mood": "happy", "subgenre": "indie rock", "energy_level": "high",
         "language": "en", "occasion": "party", "era": "2000s", "confidence": 0.9},
        {"id": "k3", "mood": "dark", "subgenre": "indie rock", "energy_level": "medium",
         "language": "en", "occasion": "focus", "era": "2000s", "confidence": 0.9},
        {"id": "k4", "mood": "happy", "subgenre": "indie rock", "energy_level": "high",
         "language": "en", "occasion": "party", "era": "2000s", "confidence": 0.9},
    ]  # fmt: skip
    assert answer == [
        {"id": f"k{n}", **llm.describe(track(llm, name))} for n, name in enumerate(names)
    ]
    assert llm.chats[-1].matched == {f"k{n}": TRACKS[name] for n, name in enumerate(names)}


@pytest.mark.parametrize(
    ("energy", "level"),
    [(None, "medium"), (0.0, "low"), (0.399, "low"), (0.4, "medium"), (0.699, "medium"),
     (0.7, "high"), (1.0, "high")],
)  # fmt: skip
def test_energy_level_thresholds(energy: float | None, level: str) -> None:
    assert energy_level(energy) == level


def test_occasion_table_covers_every_mood_and_level() -> None:
    assert occasion("happy", "high") == "party"
    assert occasion("energetic", "medium") == "workout"
    assert occasion("calm", "low") == "sleep"
    assert occasion("romantic", "high") == "romance"
    assert occasion("nostalgic", "low") == "relax"  # not in the table
    assert {len(row) for row in OCCASIONS.values()} == {3}


async def test_tracks_are_found_by_their_text_not_their_id(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    # The prompt's id is echoed, never looked up; case, accents and spacing do not matter,
    # and the array is found inside prose that has brackets of its own.
    entries = [
        {"id": 7, "title": "  SONG 3 ", "artists": ["thé firsts"], "album": None, "year": None},
        {"id": TRACKS["t1"], "title": "Song 2", "artists": "Second Act"},
    ]
    body = chat_body([])
    body["messages"][1]["content"] = (
        f"[Note] describe [these] tracks please:\n```json\n{json.dumps(entries)}\n```\nThanks!"
    )
    answer = answer_of(await chat(client, body))
    assert [entry["id"] for entry in answer] == [7, TRACKS["t1"]]
    assert answer[0] == {"id": 7, **llm.describe(track(llm, "t3"))}
    assert answer[1] == {"id": TRACKS["t1"], **llm.describe(track(llm, "t2"))}
    assert llm.chats[-1].matched == {"7": TRACKS["t3"], TRACKS["t1"]: TRACKS["t2"]}


async def test_the_album_breaks_ties_between_same_named_tracks(clock: Clock) -> None:
    # t4 renamed "Song 1" on the second album, with a mood of its own.
    library = llm_library()
    t4 = library.tracks[TRACKS["t4"]]
    tracks = {**library.tracks, t4.id: replace(t4, name="Song 1", artist_ids=(t4.artist_ids[1],))}
    llm = LlmEmulator(replace(library, tracks=tracks), clock=clock)
    second = {"title": "Song 1", "artists": ["The Firsts"], "album": "Second Album"}
    first = {**second, "album": "First Album"}
    assert llm.identify(second) == tracks[t4.id]
    assert llm.identify(first) == tracks[TRACKS["t1"]]
    assert llm.library.albums[ALBUMS["album2"]].name == "Second Album"


async def test_an_unknown_track_gets_a_low_confidence_guess(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    entries = [
        {"id": "x", "title": "Nobody Knows", "artists": ["Ghost"], "album": "?", "year": 1974},
        {"id": "y", "title": "Nothing", "artists": []},
    ]
    answer = answer_of(await chat(client, chat_body(entries)))
    guess = {"mood": "calm", "subgenre": "pop", "energy_level": "medium", "language": "en",
             "occasion": "relax", "confidence": 0.2}  # fmt: skip
    assert answer == [{"id": "x", **guess, "era": "1970s"}, {"id": "y", **guess, "era": "2000s"}]
    assert llm.chats[-1].matched == {"x": None, "y": None}


async def test_the_chat_log_keeps_each_body_and_what_was_found(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    entries = [prompt_entry(llm, "t1", "a")]
    body = chat_body(entries, temperature=0.0)
    await chat(client, body)
    [record] = llm.chats
    assert (record.body, record.tracks, record.fault, record.spoiled) == (body, entries, None, ())
    assert [(r.method, r.path, r.status) for r in llm.requests] == [
        ("POST", "/chat/completions", 200)
    ]


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "text"},
        {"type": "json_object"},
        {"type": "json_schema", "json_schema": {"name": "t", "strict": True, "schema": {}}},
    ],
)
async def test_each_response_format_gets_the_same_json(
    llm: LlmEmulator, client: httpx.AsyncClient, response_format: dict[str, Any]
) -> None:
    entries = [prompt_entry(llm, "t2", "a")]
    answer = answer_of(await chat(client, chat_body(entries, response_format=response_format)))
    assert answer == [{"id": "a", **llm.describe(track(llm, "t2"))}]


async def test_fenced_answers_when_configured(llm: LlmEmulator, client: httpx.AsyncClient) -> None:
    llm.config.fenced = True
    content = content_of(await chat(client, chat_body([prompt_entry(llm, "t1", "a")])))
    assert content.startswith("```json\n") and content.endswith("\n```")
    assert json.loads(content[8:-4])["tracks"][0]["id"] == "a"


async def test_max_answers_cuts_the_answer_short(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    llm.config.max_answers = 2
    entries = [prompt_entry(llm, name, name) for name in ("t1", "t2", "t3")]
    answer = answer_of(await chat(client, chat_body(entries)))
    assert [entry["id"] for entry in answer] == ["t1", "t2"]
    assert llm.chats[-1].matched == {"t1": TRACKS["t1"], "t2": TRACKS["t2"]}


# -- models, keys, errors ------------------------------------------------------------------


async def test_models_lists_the_default_or_the_configured_ids(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    listed = (await client.get("/models")).json()
    assert listed == {
        "object": "list",
        "data": [
            {"id": "emulated-llm", "object": "model", "created": 1_700_000_000,
             "owned_by": "emulator"},
        ],
    }  # fmt: skip
    llm.config.models = ("small", "large")
    assert [m["id"] for m in (await client.get("/models")).json()["data"]] == ["small", "large"]


async def test_an_unknown_model_is_refused_only_when_models_are_set(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    assert (await chat(client, chat_body([]))).status_code == 200
    llm.config.models = ("small",)
    response = await chat(client, chat_body([]))
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "The model `any-model` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }
    assert (await chat(client, {**chat_body([]), "model": "small"})).status_code == 200


async def test_keys_are_checked_only_when_configured(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    assert (await chat(client, chat_body([]), key="whatever")).status_code == 200
    llm.config.api_keys = (KEY,)
    for key in (None, "sk-wrong-key"):
        response = await chat(client, chat_body([]), key=key)
        assert response.status_code == 401
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert (await client.get("/models")).status_code == 401
    assert (await chat(client, chat_body([]), key=KEY)).status_code == 200
    assert llm.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def _without(key: str) -> dict[str, Any]:
    body = chat_body([])
    del body[key]
    return body


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (_without("model"), "model"),
        ({**chat_body([]), "messages": []}, "messages"),
        ({**chat_body([]), "messages": [{"role": "robot", "content": "hi"}]}, "messages"),
        ({**chat_body([]), "messages": [{"role": "user", "content": 3}]}, "messages"),
        ({**chat_body([]), "temperature": 2.5}, "temperature"),
        ({**chat_body([]), "temperature": "hot"}, "temperature"),
        ({**chat_body([]), "stream": True}, "stream"),
        ({**chat_body([]), "response_format": {"type": "xml"}}, "response_format.type"),
        ({**chat_body([]), "response_format": {"type": "json_schema"}}, "response_format"),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "hello"}],
                "response_format": {"type": "json_object"},
            },
            "messages",
        ),
        (["not", "an", "object"], None),
    ],
)
async def test_invalid_requests_are_400_naming_the_parameter(
    llm: LlmEmulator, client: httpx.AsyncClient, body: Any, param: str | None
) -> None:
    response = await chat(client, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, None)
    assert error["message"]
    assert llm.chats == []


async def test_a_body_that_is_not_json_and_an_unknown_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", content=b"{nope")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("We could not parse the JSON body")
    missing = await client.post("/completions", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Invalid URL (POST /llm/v1/completions)"


async def test_message_content_may_be_a_list_of_text_parts(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    listing = json.dumps([prompt_entry(llm, "t1", "a")])
    parts = [{"type": "text", "text": "Describe these tracks:"}, {"type": "text", "text": listing}]
    body = {"model": "m", "messages": [{"role": "user", "content": parts}]}
    answer = answer_of(await chat(client, body))
    assert answer == [{"id": "a", **llm.describe(track(llm, "t1"))}]


async def test_over_the_rate_limit_is_429_with_retry_after(
    llm: LlmEmulator, client: httpx.AsyncClient, clock: Clock
) -> None:
    llm.config.rate_limit, llm.config.rate_window = 2, 60.0
    statuses = [(await chat(client, chat_body([]))).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = await chat(client, chat_body([]))
    assert int(refused.headers["retry-after"]) in range(1, 61)
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert [r.fault for r in llm.requests] == [None, None, "rate_limit", "rate_limit"]
    other_key = await chat(client, chat_body([]), key="other")  # counted per key
    assert other_key.status_code == 200
    clock.advance(61)
    assert (await chat(client, chat_body([]))).status_code == 200


# -- faults --------------------------------------------------------------------------------


async def test_malformed_answers_are_broken_json_in_every_variant(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    llm.config.malformed_rate = 1.0
    entries = [prompt_entry(llm, name, name) for name in ("t1", "t2")]
    for _ in range(15):
        response = await chat(client, chat_body(entries))
        content = content_of(response)
        with pytest.raises(json.JSONDecodeError):
            json.loads(content)
        truncated = llm.chats[-1].fault == "malformed:truncated"
        assert response.json()["choices"][0]["finish_reason"] == ("length" if truncated else "stop")
    assert {record.fault for record in llm.chats} == {
        "malformed:truncated",
        "malformed:trailing_comma",
        "malformed:prose",
    }
    assert {record.spoiled for record in llm.chats} == {("t1", "t2")}


async def test_schema_violations_break_one_entry_of_valid_json(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    llm.config.schema_violation_rate = 1.0
    names = ("t1", "t2", "t3")
    clean = {name: {"id": name, **llm.describe(track(llm, name))} for name in names}
    for _ in range(16):
        answer = answer_of(await chat(client, chat_body([prompt_entry(llm, n, n) for n in names])))
        record = llm.chats[-1]
        [spoiled] = record.spoiled
        assert [entry for entry in answer if entry["id"] != spoiled] == [
            clean[name] for name in names if name != spoiled
        ]
        [broken] = [entry for entry in answer if entry["id"] == spoiled]
        expected = {
            "schema:energy_number": {**clean[spoiled], "energy_level": 0.5},
            "schema:missing_mood": {k: v for k, v in clean[spoiled].items() if k != "mood"},
            "schema:energy_enum": {**clean[spoiled], "energy_level": "extreme"},
            "schema:era_pattern": {**clean[spoiled], "era": clean[spoiled]["era"][2:]},
        }
        assert broken == expected[str(record.fault)]
    assert len({record.fault for record in llm.chats}) == 4


async def test_answer_faults_replay_from_the_seed(clock: Clock) -> None:
    async def contents(llm: LlmEmulator) -> list[str]:
        transport = emulator_transport(llm.app, root_path="/llm/v1")
        entries = [prompt_entry(llm, name, name) for name in ("t1", "t2", "t3")]
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            return [content_of(await chat(http, chat_body(entries))) for _ in range(12)]

    config = LlmConfig(malformed_rate=0.3, schema_violation_rate=0.3, fault_seed=5)
    first = LlmEmulator(llm_library(), config, clock)
    second = LlmEmulator(llm_library(), replace(config), clock)
    run = await contents(first)
    assert run == await contents(second)
    assert {r.fault is None for r in first.chats} == {True, False}  # both kinds happened
    first.reset_faults()
    assert await contents(first) == run


def test_answer_fault_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="must not exceed 1"):
        LlmConfig(malformed_rate=0.6, schema_violation_rate=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        LlmConfig(malformed_rate=-0.1)


async def test_gate_faults_fail_and_drop_requests(
    llm: LlmEmulator, client: httpx.AsyncClient
) -> None:
    llm.config.fail_rate = 1.0
    assert (await chat(client, chat_body([]))).status_code in (500, 502, 503)
    llm.config.fail_rate, llm.config.drop_rate = 0.0, 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        await chat(client, chat_body([]))
    assert [r.fault for r in llm.requests] == ["error", "drop"]
    assert llm.chats == []
