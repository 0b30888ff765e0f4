import { Badge } from "../../components/Badge";
import type { FetchedSource, Playlist } from "./api";
import { LIKED, fetchedFor, freshness, playlistKey, plural } from "./model";
import styles from "./SourceList.module.css";

/** Liked songs and the playlists, each with a checkbox to pick it, its owner, size, when it was
 * fetched, and whether Spotify lets the app read it (and why not). */
export function SourceList({
  playlists,
  showLiked,
  fetched,
  selected,
  onToggle,
  now,
}: {
  playlists: Playlist[];
  showLiked: boolean;
  fetched: FetchedSource[];
  selected: ReadonlySet<string>;
  onToggle: (key: string, checked: boolean) => void;
  now?: Date;
}) {
  const liked = fetchedFor(fetched, LIKED);
  return (
    <div className={styles.table}>
      <div className={styles.head} aria-hidden="true">
        <span />
        <span>Source</span>
        <span>Owner</span>
        <span className={styles.number}>Tracks</span>
        <span>Last fetch</span>
        <span>Access</span>
      </div>
      <ul className={styles.rows} aria-label="Sources">
        {showLiked ? (
          <Row
            id={LIKED}
            name="Liked songs"
            owner="You"
            tracks={liked !== undefined ? liked.tracks : null}
            tracksNote={liked !== undefined ? "when last fetched" : null}
            fresh={freshness(liked, null, now)}
            readable
            reason={null}
            checked={selected.has(LIKED)}
            onToggle={onToggle}
          />
        ) : null}
        {playlists.map((playlist) => {
          const key = playlistKey(playlist);
          return (
            <Row
              key={playlist.id}
              id={key}
              name={playlist.name}
              owner={playlist.owner_name ?? playlist.owner_id}
              collaborative={playlist.collaborative}
              tracks={playlist.track_count}
              tracksNote={null}
              fresh={freshness(fetchedFor(fetched, key), playlist, now)}
              readable={playlist.readable}
              reason={playlist.reason ?? null}
              checked={selected.has(key)}
              onToggle={onToggle}
            />
          );
        })}
      </ul>
    </div>
  );
}

function Row({
  id,
  name,
  owner,
  collaborative = false,
  tracks,
  tracksNote,
  fresh,
  readable,
  reason,
  checked,
  onToggle,
}: {
  id: string;
  name: string;
  owner: string;
  collaborative?: boolean;
  tracks: number | null;
  tracksNote: string | null;
  fresh: ReturnType<typeof freshness>;
  readable: boolean;
  reason: string | null;
  checked: boolean;
  onToggle: (key: string, checked: boolean) => void;
}) {
  const inputId = `source-${id}`;
  const reasonId = `${inputId}-reason`;
  return (
    <li className={[styles.row, readable ? "" : styles.unreadable, checked ? styles.selected : ""].join(" ")}>
      <input
        id={inputId}
        type="checkbox"
        className={styles.check}
        checked={checked}
        disabled={!readable}
        aria-describedby={readable ? undefined : reasonId}
        onChange={(event) => {
          onToggle(id, event.target.checked);
        }}
      />
      <label htmlFor={inputId} className={styles.name}>
        {name}
      </label>
      <span className={styles.owner}>
        <span className="visually-hidden">Owner: </span>
        {owner}
        {collaborative ? <span className={styles.collab}>collaborative</span> : null}
      </span>
      <span className={[styles.number, styles.tracks].join(" ")}>
        {tracks !== null ? (
          <>
            {plural(tracks, "track")}
            {tracksNote !== null ? <span className="visually-hidden"> {tracksNote}</span> : null}
          </>
        ) : (
          <span className={styles.unknown}>
            <span aria-hidden="true">—</span>
            <span className="visually-hidden">Track count known after the first fetch</span>
          </span>
        )}
      </span>
      <span className={[styles.fetched, styles[fresh.tone]].join(" ")}>{fresh.text}</span>
      <span className={styles.access}>
        {readable ? <Badge tone="success">Readable</Badge> : <Badge tone="warning">Can't read</Badge>}
      </span>
      {!readable && reason !== null ? (
        <p id={reasonId} className={styles.reason}>
          {reason.charAt(0).toUpperCase() + reason.slice(1)}.
        </p>
      ) : null}
    </li>
  );
}
