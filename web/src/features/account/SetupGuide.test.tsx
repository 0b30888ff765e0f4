import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { SetupGuide, type Guide } from "./SetupGuide";

const GUIDE: Guide = {
  demo_mode: true,
  demo_reason: "no SAP_SPOTIFY_CLIENT_ID is set",
  client_id_configured: false,
  dashboard_url: "https://developer.spotify.com/dashboard",
  redirect_uri: "http://127.0.0.1:9000/auth/callback",
  scopes: [
    { scope: "user-library-read", why: "read your liked songs, the first source of your library" },
    { scope: "playlist-modify-private", why: "the same for private playlists" },
  ],
  client_id_placeholder: "YOUR_CLIENT_ID",
  env_lines: ["SAP_SPOTIFY_CLIENT_ID=YOUR_CLIENT_ID"],
  command: "SAP_SPOTIFY_CLIENT_ID=YOUR_CLIENT_ID make run PORT=9000",
  login_lifetime_days: 183,
};

describe("SetupGuide", () => {
  it("shows the redirect URI to register and each permission with its reason", () => {
    render(<SetupGuide guide={GUIDE} />);
    expect(screen.getByLabelText("redirect URI")).toHaveValue("http://127.0.0.1:9000/auth/callback");
    expect(screen.getByRole("rowheader", { name: "user-library-read" })).toBeInTheDocument();
    expect(
      screen.getByRole("cell", { name: "read your liked songs, the first source of your library" }),
    ).toBeInTheDocument();
  });

  it("fills a pasted client id into the .env lines and the command", async () => {
    render(<SetupGuide guide={GUIDE} />);
    await userEvent.type(screen.getByLabelText("Client id"), "0123456789abcdef0123456789ABCDEF");
    expect(screen.getByLabelText("start command")).toHaveTextContent(
      "SAP_SPOTIFY_CLIENT_ID=0123456789abcdef0123456789ABCDEF make run PORT=9000",
    );
    expect(screen.getByLabelText(".env lines")).toHaveTextContent(
      "SAP_SPOTIFY_CLIENT_ID=0123456789abcdef0123456789ABCDEF",
    );
    expect(screen.getByText("Looks right: the commands below use it.")).toBeInTheDocument();
  });

  it("says what a client id looks like instead of using a wrong one", async () => {
    render(<SetupGuide guide={GUIDE} />);
    const input = screen.getByLabelText("Client id");
    await userEvent.type(input, "my-app-secret");
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(input).toHaveAccessibleDescription(/32 characters, digits and the letters a to f/);
    expect(screen.getByLabelText("start command")).toHaveValue(
      "SAP_SPOTIFY_CLIENT_ID=YOUR_CLIENT_ID make run PORT=9000",
    );
  });

  it("only lists what the app is registered with once your client id is in use", () => {
    render(<SetupGuide guide={{ ...GUIDE, demo_mode: false, demo_reason: null, client_id_configured: true }} />);
    expect(screen.getByRole("heading", { name: "Your Spotify app" })).toBeInTheDocument();
    expect(screen.queryByLabelText("Client id")).not.toBeInTheDocument();
  });
});
