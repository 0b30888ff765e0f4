import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { Playlist } from "./api";
import { SourceList } from "./SourceList";

const PLAYLISTS: Playlist[] = [
  {
    id: "p1",
    name: "Rainy Day",
    owner_id: "lily",
    owner_name: "Lily Harlow",
    track_count: 37,
    snapshot_id: "s1",
    collaborative: false,
    readable: true,
    reason: null,
  },
  {
    id: "p2",
    name: "Focus",
    owner_id: "spotify",
    owner_name: "Spotify",
    track_count: 100,
    snapshot_id: "s2",
    collaborative: false,
    readable: false,
    reason: "followed playlist owned by Spotify: since 2026 Spotify lets personal apps read only playlists you own",
  },
];

describe("SourceList", () => {
  it("lets a person pick liked songs and readable playlists by their names", async () => {
    const onToggle = vi.fn();
    render(<SourceList playlists={PLAYLISTS} showLiked fetched={[]} selected={new Set()} onToggle={onToggle} />);
    await userEvent.click(screen.getByLabelText("Liked songs"));
    await userEvent.click(screen.getByLabelText("Rainy Day"));
    expect(onToggle.mock.calls).toEqual([
      ["liked", true],
      ["playlist:p1", true],
    ]);
    expect(screen.getByText("37 tracks")).toBeInTheDocument();
  });

  it("disables a playlist Spotify will not let the app read, and says why", () => {
    render(<SourceList playlists={PLAYLISTS} showLiked={false} fetched={[]} selected={new Set()} onToggle={vi.fn()} />);
    const focus = screen.getByLabelText("Focus");
    expect(focus).toBeDisabled();
    expect(focus).toHaveAccessibleDescription(/Followed playlist owned by Spotify: since 2026/);
    expect(screen.getByText("Can't read")).toBeInTheDocument();
  });

  it("shows what is selected as checked", () => {
    render(
      <SourceList
        playlists={PLAYLISTS}
        showLiked
        fetched={[]}
        selected={new Set(["playlist:p1"])}
        onToggle={vi.fn()}
      />,
    );
    expect(screen.getByLabelText("Rainy Day")).toBeChecked();
    expect(screen.getByLabelText("Liked songs")).not.toBeChecked();
  });
});
