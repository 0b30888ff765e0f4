import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ConnectionCard, type AuthStatus } from "./ConnectionCard";

const NOW = new Date("2026-06-01T12:00:00Z");
const CONNECTED: AuthStatus = {
  connected: true,
  login_required: false,
  demo_mode: false,
  user_id: "lily.harlow42",
  user_name: "Lily Harlow",
  access_expires_at: "2026-06-01T12:52:00Z",
  refresh_expires_at: "2026-12-01T12:00:00Z",
};

function card(status: AuthStatus, onDisconnect = vi.fn()) {
  return render(
    <MemoryRouter>
      <ConnectionCard
        status={status}
        loginLifetimeDays={183}
        onDisconnect={onDisconnect}
        disconnecting={false}
        disconnectError={null}
        now={NOW}
      />
    </MemoryRouter>,
  );
}

describe("ConnectionCard", () => {
  it("says who is connected, when the token renews and when the login ends", async () => {
    const onDisconnect = vi.fn();
    card(CONNECTED, onDisconnect);
    expect(screen.getByText("Lily Harlow")).toBeInTheDocument();
    expect(screen.getByText(/in 52 minutes/)).toBeInTheDocument();
    expect(screen.getByText(/in 6 months/)).toBeInTheDocument();
    expect(screen.queryByText(/Your Spotify login ends in/)).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Disconnect" }));
    expect(onDisconnect).toHaveBeenCalledOnce();
  });

  it("warns two weeks before Spotify ends the login", () => {
    card({ ...CONNECTED, refresh_expires_at: "2026-06-10T12:00:00Z" });
    expect(screen.getByText("Your Spotify login ends in 9 days")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Connect again now" })).toHaveAttribute("href", "/auth/login");
  });

  it("offers the demo login when nothing is connected in demo mode", () => {
    card({ connected: false, login_required: true, demo_mode: true, reason: "not connected yet" });
    expect(screen.getByRole("link", { name: "Connect the demo account" })).toHaveAttribute("href", "/auth/login");
    expect(screen.getByText("Not connected")).toBeInTheDocument();
  });

  it("asks to connect again, by name, after the six-month limit", () => {
    card({
      connected: false,
      login_required: true,
      demo_mode: false,
      reason: "Spotify refused the refresh token (invalid_grant)",
      user_id: "lily.harlow42",
      user_name: "Lily Harlow",
    });
    expect(screen.getByText("Spotify needs you to connect again, Lily Harlow")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Connect again" })).toBeInTheDocument();
  });
});
