// Screens 6-8, Sync: plan and apply, backups and undo, unattended sync — three tabs of one
// screen (/sync, /sync/backups, /sync/unattended), each its own route under this layout.
import { useMemo } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";
import { useCommands, type Command } from "../../app/commands";
import { PageHeader } from "../../components/Page";
import { useRefreshWhenSyncJobsEnd } from "./api";
import styles from "./Sync.module.css";

const TABS = [
  { to: "/sync", label: "Plan and apply", end: true },
  { to: "/sync/backups", label: "Backups and undo", end: false },
  { to: "/sync/unattended", label: "Unattended sync", end: false },
];

export function SyncPage() {
  useRefreshWhenSyncJobsEnd();
  const navigate = useNavigate();
  const commands = useMemo<Command[]>(
    () =>
      TABS.map((tab) => ({
        id: `sync:tab:${tab.to}`,
        title: `Sync: ${tab.label}`,
        group: "Sync",
        keywords: ["undo", "restore", "schedule", "hold", "review"],
        run: () => {
          void navigate(tab.to);
        },
      })),
    [navigate],
  );
  useCommands(commands);
  return (
    <>
      <PageHeader
        title="Sync"
        lead="See exactly what would change in each playlist on Spotify, apply it when you say so, and undo it."
      />
      <nav aria-label="Sync" className={styles.tabs}>
        {TABS.map((tab) => (
          <NavLink key={tab.to} to={tab.to} end={tab.end} className={styles.tab}>
            {tab.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </>
  );
}
