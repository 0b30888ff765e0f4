import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { LOGIN_PATH, useAuthStatus, useLogout } from "../features/account/api";
import { useActiveJobCount } from "../features/jobs/api";
import { JobsDrawer } from "../features/jobs/JobsDrawer";
import type { Job } from "../features/jobs/model";
import { finishedWords, useJobStream } from "../features/jobs/stream";
import { CommandPalette } from "./CommandPalette";
import { useCommands, type Command } from "./commands";
import { Logo, ScreenIcon } from "./Icons";
import { SCREENS } from "./screens";
import { ShellContext, type Shell } from "./shell";
import { ShortcutsDialog } from "./ShortcutsDialog";
import { NEXT_THEME, setTheme, shownTheme, useTheme, type ThemeChoice } from "./theme";
import { useGlobalKeys } from "./keys";
import styles from "./Layout.module.css";

const THEME_WORDS: Record<ThemeChoice, string> = { system: "System", light: "Light", dark: "Dark" };

/** The app shell: navigation, the demo banner, the screen, and the palette, shortcuts and
 * jobs drawer any screen can open. */
export function Layout() {
  const [paletteOpen, setPaletteOpen] = useState(false);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  const [jobs, setJobs] = useState<{ open: boolean; highlight: string[] }>({ open: false, highlight: [] });
  const [menuOpen, setMenuOpen] = useState(false);
  const searchInput = useRef<HTMLInputElement | null>(null);
  const location = useLocation();
  const navigate = useNavigate();
  const status = useAuthStatus();
  const logout = useLogout();
  const theme = useTheme();
  // The job event stream, one connection for the whole app; jobs that end are announced.
  const [announcement, setAnnouncement] = useState("");
  const announce = useCallback((ended: Job[]) => {
    setAnnouncement(ended.map(finishedWords).join(". "));
  }, []);
  const stream = useJobStream(announce);
  const runningJobs = useActiveJobCount();

  const shell = useMemo<Shell>(
    () => ({
      openPalette: () => {
        setPaletteOpen(true);
      },
      openShortcuts: () => {
        setShortcutsOpen(true);
      },
      openJobs: (jobIds?: string[]) => {
        setJobs({ open: true, highlight: jobIds ?? [] });
      },
      registerSearch: (element: HTMLInputElement | null) => {
        searchInput.current = element;
      },
    }),
    [],
  );

  useGlobalKeys({
    togglePalette: () => {
      setPaletteOpen((open) => !open);
    },
    openShortcuts: () => {
      setShortcutsOpen(true);
    },
    focusSearch: () => {
      const input = searchInput.current;
      if (input !== null && input.isConnected) {
        input.focus();
        input.select();
      } else {
        setPaletteOpen(true);
      }
    },
    go: (key) => {
      const screen = SCREENS.find((candidate) => candidate.key === key);
      if (screen !== undefined) void navigate(screen.path);
    },
    blocked: paletteOpen || shortcutsOpen || jobs.open,
  });

  // A new screen: name the page, and move focus to its heading (not on the first load, where
  // focus belongs to the top of the document).
  const first = useRef(true);
  useEffect(() => {
    const screen = SCREENS.find((candidate) => location.pathname.startsWith(candidate.path));
    document.title = screen !== undefined ? `${screen.label} · spotify-auto-playlists` : "spotify-auto-playlists";
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("page-title")?.focus();
  }, [location.pathname]);

  const connected = status.data?.connected === true;
  const commands = useMemo<Command[]>(() => {
    const list: Command[] = SCREENS.map((screen) => ({
      id: `go:${screen.path}`,
      title: `Go to ${screen.label}`,
      group: "Go to",
      keywords: [screen.description],
      shortcut: ["g", screen.key],
      run: () => {
        void navigate(screen.path);
      },
    }));
    list.push(
      {
        id: "rules:new",
        title: "New rule set (rules editor)",
        group: "Rules",
        keywords: ["create", "playlist", "rules", "editor"],
        run: () => {
          void navigate("/rules/new");
        },
      },
      {
        id: "jobs:open",
        title: "Open jobs",
        group: "Jobs",
        keywords: ["progress", "history"],
        run: () => {
          setJobs({ open: true, highlight: [] });
        },
      },
      ...(["system", "light", "dark"] as const).map((choice) => ({
        id: `theme:${choice}`,
        title: choice === "system" ? "Theme: follow the system" : `Theme: ${choice}`,
        group: "View",
        keywords: ["dark mode", "light mode", "colour", "color"],
        run: () => {
          setTheme(choice);
        },
      })),
      {
        id: "help:shortcuts",
        title: "Show keyboard shortcuts",
        group: "Help",
        shortcut: ["?"],
        run: () => {
          setShortcutsOpen(true);
        },
      },
      {
        id: "help:api",
        title: "Open the API documentation",
        group: "Help",
        keywords: ["swagger", "openapi", "docs"],
        run: () => {
          window.location.assign("/docs");
        },
      },
    );
    if (connected) {
      list.push({
        id: "account:disconnect",
        title: "Disconnect Spotify",
        group: "Account",
        keywords: ["logout", "log out"],
        run: () => {
          logout.mutate();
        },
      });
    } else if (status.data !== undefined) {
      list.push({
        id: "account:connect",
        title: status.data.demo_mode ? "Connect the demo account" : "Connect Spotify",
        group: "Account",
        keywords: ["login", "log in"],
        run: () => {
          window.location.assign(LOGIN_PATH);
        },
      });
    }
    return list;
  }, [navigate, connected, status.data, logout]);
  useCommands(commands);

  return (
    <ShellContext.Provider value={shell}>
      <a className={styles.skip} href="#main">
        Skip to content
      </a>
      <div className={styles.shell}>
        <header className={styles.sidebar}>
          <div className={styles.sidebarInner}>
            <div className={styles.brand}>
              <Link to="/account" className={styles.brandLink}>
                <Logo />
                <span className={styles.brandName}>spotify-auto-playlists</span>
              </Link>
              <JobsButton className={styles.mobileJobs} running={runningJobs} onOpen={shell.openJobs} />
              <button
                type="button"
                className={styles.menuButton}
                aria-expanded={menuOpen}
                aria-controls="main-nav"
                onClick={() => {
                  setMenuOpen((open) => !open);
                }}
              >
                <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
                  <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
                </svg>
                <span>Menu</span>
              </button>
            </div>
            <nav id="main-nav" aria-label="Screens" className={[styles.nav, menuOpen ? styles.navOpen : ""].join(" ")}>
              <ul>
                {SCREENS.map((screen) => (
                  <li key={screen.path}>
                    <NavLink
                      to={screen.path}
                      className={({ isActive }) => [styles.navLink, isActive ? styles.active : ""].join(" ")}
                      onClick={() => {
                        setMenuOpen(false);
                      }}
                    >
                      <ScreenIcon path={screen.path} />
                      {screen.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
              <div className={styles.tools}>
                <JobsButton className={styles.tool} running={runningJobs} onOpen={shell.openJobs} />
                <button
                  type="button"
                  className={styles.tool}
                  onClick={() => {
                    setPaletteOpen(true);
                  }}
                  aria-keyshortcuts="Control+K"
                >
                  Commands <kbd>Ctrl K</kbd>
                </button>
                <button
                  type="button"
                  className={styles.tool}
                  onClick={() => {
                    setTheme(NEXT_THEME[theme]);
                  }}
                  aria-label={`Colour theme: ${THEME_WORDS[theme]}${theme === "system" ? ` (${shownTheme(theme)})` : ""}. Switch to ${THEME_WORDS[NEXT_THEME[theme]]}`}
                >
                  Theme: {THEME_WORDS[theme]}
                </button>
                <button
                  type="button"
                  className={styles.tool}
                  onClick={() => {
                    setShortcutsOpen(true);
                  }}
                  aria-keyshortcuts="Shift+?"
                >
                  Shortcuts <kbd>?</kbd>
                </button>
              </div>
            </nav>
          </div>
        </header>
        <div className={styles.main}>
          {status.data?.demo_mode === true ? (
            <aside className={styles.demo} aria-label="Demo mode">
              <p>
                <strong>Demo mode.</strong> This server uses a built-in emulated Spotify account and emulated providers:
                nothing reaches Spotify.
              </p>
              <Link to="/account#setup">Use your own account</Link>
            </aside>
          ) : null}
          <main id="main" className={styles.content} tabIndex={-1}>
            <Outlet />
          </main>
        </div>
      </div>
      <CommandPalette
        open={paletteOpen}
        onClose={() => {
          setPaletteOpen(false);
        }}
      />
      <ShortcutsDialog
        open={shortcutsOpen}
        onClose={() => {
          setShortcutsOpen(false);
        }}
      />
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="job-announcements">
        {announcement}
      </p>
      <JobsDrawer
        open={jobs.open}
        highlight={jobs.highlight}
        stream={stream}
        onClose={() => {
          setJobs({ open: false, highlight: [] });
        }}
      />
    </ShellContext.Provider>
  );
}

/** The button that opens the jobs drawer, with the count of running jobs in its name. */
function JobsButton({
  className,
  running,
  onOpen,
}: {
  className: string | undefined;
  running: number;
  onOpen: () => void;
}) {
  return (
    <button
      type="button"
      className={className}
      onClick={() => {
        onOpen();
      }}
    >
      Jobs
      {running > 0 ? (
        <>
          <span className={styles.jobCount}>{running}</span>
          <span className="visually-hidden"> running</span>
        </>
      ) : null}
    </button>
  );
}
