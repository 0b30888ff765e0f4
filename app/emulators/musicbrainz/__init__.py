"""`MusicBrainzEmulator`: MusicBrainz WS/2 (JSON) over a generated library's truth.

    emulator = MusicBrainzEmulator(library, MusicBrainzConfig(enforce_rate_limit=False))
    client = httpx.AsyncClient(transport=emulator_transport(emulator.app, root_path="/ws/2"),
                               base_url="http://musicbrainz.test/ws/2",
                               headers={"User-Agent": "sap/1.0 ( me@example.org )"})
    await client.get("/recording", params={"query": "isrc:(A OR B)", "fmt": "json"})

Served (paths below the `/ws/2` mount): `GET /recording?query=&limit=&offset=` (search),
`GET /recording/{mbid}`, `GET /isrc/{isrc}`, `GET /release-group/{mbid}`, `GET /artist/{mbid}`,
each with `inc=` checked against what the real resource accepts.

Everything comes from the library: one recording per `TrackTruth.recording_mbid` (tracks that
share it - an album track and its compilation reissue - are one recording listing every ISRC
and release), `genres` = `truth.genres` and `tags` = those genres then the other `truth.tags`
(on MusicBrainz a genre is a tag too), with strictly decreasing counts
(sorting by count gives the truth's order), `first-release-date` from `first_release_year`
(the full date of a release of that year when there is one). About 40% of recordings
(`1 - config.recording_genre_share`, chosen by a hash of the MBID) carry no genres, as on the
real service; their release group (album genres) and artists (artist genres) still have them.
Tracks whose `recording_mbid` is None are unknown here.

Search speaks a Lucene subset: `field:term`, `field:"phrase"`, `field:(a OR b)`,
`field:[a TO b]`, `AND`/`OR`/`NOT`/`&&`/`||`, parentheses, backslash escapes; fields `isrc`,
`rid`, `arid`, `recording`/`recordingaccent` (the default field), `artist`/`artistname`,
`dur`/`qdur`, `reid`, `rgid`, `release`. Terms match folded word tokens (a phrase must appear
as consecutive words); `score` is 100 for the best hit and proportional below. An
unescaped special character is a 400, as is `limit` outside 1..100.

Search also answers OR'ed groups of clauses, `(recording:"a" AND artist:"b") OR
(recording:"c" AND artist:"d")`, as MusicBrainz does: the union of what each group finds, each
hit's score the sum of the clauses it matches, scaled so the best hit of the whole answer is 100.

Policy, in the order the real service applies it: a request line longer than
`max_request_line` (8 KiB, nginx's default) is refused by the web server in front with 414 and
an HTML page; a missing or library-default `User-Agent` is refused with 403; more than
`rate_per_second` requests per client address within `rate_limit_window` seconds of the
emulator clock gives 503 (refused requests are not counted); then random faults (`fail_rate`,
`drop_rate`) and `latency_ms`. Every request is logged in `requests` (`RequestRecord`, service
"musicbrainz").

Modules: `service` (`MusicBrainzEmulator`, its config, routes, errors and its policy, put in
front of the routes by `common.gateway.Gateway` as `Refusal`s), `data` (`MusicBrainzData` and
the id/genre helpers), `render` (JSON shapes), `query` (the search language) and `search`
(`Searcher`, scoring). Seeded faults come from `common.gate`, the request log from the gateway.
"""

from app.emulators.common.gate import RandomFaults
from app.emulators.common.gateway import Refusal, client_key
from app.emulators.musicbrainz.data import (
    MusicBrainzData,
    Recording,
    genre_id,
    is_genre,
    release_id,
    sort_name,
    words,
)
from app.emulators.musicbrainz.query import Branch, Leaf, Query, QueryError, parse_query
from app.emulators.musicbrainz.render import (
    MusicBrainzRenderer,
    artist_credit,
    counted,
    counted_genres,
    release_group_stub,
)
from app.emulators.musicbrainz.search import Searcher
from app.emulators.musicbrainz.service import (
    HELP,
    INC_ALLOWED,
    NOT_FOUND,
    RATE_LIMIT_MESSAGE,
    USER_AGENT_MESSAGE,
    MusicBrainzConfig,
    MusicBrainzEmulator,
    MusicBrainzError,
)

__all__ = [
    "HELP",
    "INC_ALLOWED",
    "NOT_FOUND",
    "RATE_LIMIT_MESSAGE",
    "USER_AGENT_MESSAGE",
    "Branch",
    "Leaf",
    "MusicBrainzConfig",
    "MusicBrainzData",
    "MusicBrainzEmulator",
    "MusicBrainzError",
    "MusicBrainzRenderer",
    "Query",
    "QueryError",
    "RandomFaults",
    "Recording",
    "Refusal",
    "Searcher",
    "artist_credit",
    "client_key",
    "counted",
    "counted_genres",
    "genre_id",
    "is_genre",
    "parse_query",
    "release_group_stub",
    "release_id",
    "sort_name",
    "words",
]
