import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useRef, useState } from "react";
import { Link } from "react-router";
import { useCommands, type Command } from "../../app/commands";
import { usePageSearch, useShell } from "../../app/shell";
import { Button, ButtonLink } from "../../components/Button";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Loading, PageHeader, Section } from "../../components/Page";
import { SearchField } from "../../components/SearchField";
import { Switch } from "../../components/Switch";
import { LOGIN_PATH, useAuthStatus } from "../account/api";
import { sourceKeys, useFetchSources, useFetchedSources, useImportCsv, usePlaylists } from "./api";
import { CsvImport, isCsv, type CsvImportHandle, type Upload } from "./CsvImport";
import { LIKED, filterPlaylists, likedMatches, plural, requestsFor } from "./model";
import { SourceList } from "./SourceList";
import { StartedJobs } from "./StartedJobs";
import styles from "./SourcesPage.module.css";

/** Sources: pick liked songs and playlists and fetch them (one job per source), or import
 * Exportify CSV files. */
export function SourcesPage() {
  const shell = useShell();
  const searchRef = usePageSearch();
  const client = useQueryClient();
  const status = useAuthStatus();
  const connected = status.data?.connected === true;
  const playlists = usePlaylists(connected);
  const fetched = useFetchedSources();
  const fetchSources = useFetchSources();
  const importCsv = useImportCsv();
  const csv = useRef<CsvImportHandle>(null);

  const [query, setQuery] = useState("");
  const [mineOnly, setMineOnly] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [uploads, setUploads] = useState<Upload[]>([]);

  const all = useMemo(() => playlists.data ?? [], [playlists.data]);
  const shown = filterPlaylists(all, { query, mineOnly });
  const showLiked = likedMatches(query);
  const fetchedSources = fetched.data ?? [];
  const imported = fetchedSources.filter((source) => source.source_type === "csv");
  const readableCount = all.filter((playlist) => playlist.readable).length;
  const requests = requestsFor(selected, all);

  const toggle = (key: string, checked: boolean) => {
    setSelected((current) => {
      const next = new Set(current);
      if (checked) next.add(key);
      else next.delete(key);
      return next;
    });
  };

  const fetchSelected = () => {
    if (requests.length === 0) return;
    fetchSources.mutate(requests, {
      onSuccess: () => {
        setSelected(new Set());
      },
    });
  };

  const addFiles = (files: File[]) => {
    for (const file of files) {
      if (!isCsv(file)) {
        setUploads((current) => [
          ...current,
          {
            name: file.name,
            state: "refused",
            error: new Error(`${file.name} is not a .csv file: only Exportify CSV exports can be imported.`),
          },
        ]);
        continue;
      }
      setUploads((current) => [...current, { name: file.name, state: "uploading" }]);
      const settle = (patch: Partial<Upload>) => {
        setUploads((current) =>
          current.map((upload) =>
            upload.name === file.name && upload.state === "uploading" ? { ...upload, ...patch } : upload,
          ),
        );
      };
      importCsv.mutate(file, {
        onSuccess: (answer) => {
          settle({ state: "started", job: answer.job });
        },
        onError: (error) => {
          settle({ state: "refused", error });
        },
      });
    }
  };

  const commands = useMemo<Command[]>(
    () => [
      {
        id: "sources:fetch",
        title:
          requests.length > 0
            ? `Fetch the ${plural(requests.length, "selected source")}`
            : "Fetch the selected sources",
        group: "Sources",
        keywords: ["download", "read", "start"],
        run: fetchSelected,
      },
      {
        id: "sources:liked",
        title: selected.has(LIKED) ? "Unselect liked songs" : "Select liked songs",
        group: "Sources",
        run: () => {
          toggle(LIKED, !selected.has(LIKED));
        },
      },
      {
        id: "sources:mine",
        title: mineOnly ? "Show every playlist" : "Show my playlists only",
        group: "Sources",
        keywords: ["mine only", "filter", "owned"],
        run: () => {
          setMineOnly((value) => !value);
        },
      },
      {
        id: "sources:csv",
        title: "Import Exportify CSV files",
        group: "Sources",
        keywords: ["upload", "file"],
        run: () => csv.current?.choose(),
      },
      {
        id: "sources:refresh",
        title: "Reload the playlists from Spotify",
        group: "Sources",
        run: () => {
          void client.invalidateQueries({ queryKey: sourceKeys.playlists() });
          void client.invalidateQueries({ queryKey: sourceKeys.fetched() });
        },
      },
    ],
    // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt when what they show changes
    [requests.length, selected, mineOnly, client],
  );
  useCommands(commands);

  return (
    <>
      <PageHeader
        title="Sources"
        lead="Choose what goes into your library: liked songs, the playlists Spotify lets the app read, and Exportify CSV files."
      />
      <div className={styles.stack}>
        <Section
          title="Liked songs and playlists"
          description={
            playlists.data !== undefined
              ? `${plural(all.length, "playlist")} in your Spotify library; the app can read ${readableCount} of them.`
              : "Fetching reads the tracks into your library; unchanged playlists are skipped."
          }
        >
          {!connected && status.data !== undefined ? (
            <Notice
              tone="info"
              title="Connect Spotify to list your playlists"
              actions={
                <>
                  <ButtonLink href={LOGIN_PATH} size="sm" variant="primary">
                    {status.data.demo_mode ? "Connect the demo account" : "Connect Spotify"}
                  </ButtonLink>
                  <Link to="/account">Account</Link>
                </>
              }
            >
              <p>CSV files can be imported without it, below.</p>
            </Notice>
          ) : null}
          {connected ? (
            <>
              <div className={styles.toolbar}>
                <SearchField
                  ref={searchRef}
                  label="Search playlists"
                  value={query}
                  onChange={setQuery}
                  placeholder="Search by name or owner"
                />
                <Switch label="Mine only" checked={mineOnly} onChange={setMineOnly} />
                <p className={styles.count} role="status">
                  {playlists.data !== undefined ? `Showing ${shown.length} of ${plural(all.length, "playlist")}` : ""}
                </p>
              </div>
              {playlists.isPending ? <Loading label="Reading your playlists from Spotify…" /> : null}
              {playlists.error !== null ? <ErrorNotice error={playlists.error} /> : null}
              {fetched.error !== null ? <ErrorNotice error={fetched.error} /> : null}
              {playlists.data !== undefined ? (
                shown.length === 0 && !showLiked ? (
                  <p className={styles.empty}>
                    No playlist matches “{query}”{mineOnly ? " among yours" : ""}.
                  </p>
                ) : (
                  <SourceList
                    playlists={shown}
                    showLiked={showLiked}
                    fetched={fetchedSources}
                    selected={selected}
                    onToggle={toggle}
                  />
                )
              ) : null}
              <div className={styles.fetchBar}>
                <p className={styles.selection} aria-live="polite">
                  {selected.size === 0 ? "Pick sources to fetch." : `${plural(selected.size, "source")} selected`}
                </p>
                {selected.size > 0 ? (
                  <Button
                    variant="ghost"
                    size="sm"
                    onClick={() => {
                      setSelected(new Set());
                    }}
                  >
                    Clear
                  </Button>
                ) : null}
                <Button
                  variant="primary"
                  onClick={fetchSelected}
                  disabled={requests.length === 0}
                  busy={fetchSources.isPending}
                >
                  {requests.length > 0 ? `Fetch ${plural(requests.length, "source")}` : "Fetch"}
                </Button>
              </div>
              {fetchSources.error !== null ? <ErrorNotice error={fetchSources.error} /> : null}
              {fetchSources.data !== undefined ? (
                <StartedJobs jobs={fetchSources.data} onOpenJobs={shell.openJobs} />
              ) : null}
            </>
          ) : null}
        </Section>
        <Section
          title="Exportify CSV files"
          description="Offline, or for playlists Spotify will not let the app read: export them with Exportify and import the files here."
        >
          <CsvImport ref={csv} uploads={uploads} onFiles={addFiles} imported={imported} onOpenJobs={shell.openJobs} />
        </Section>
      </div>
    </>
  );
}
