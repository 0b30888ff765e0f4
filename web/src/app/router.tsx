// The app's routes. Each screen is its own chunk, loaded when first shown, so the first screen
// downloads only the shell and itself (docs/performance.md, "Web app").
import { Navigate, createBrowserRouter, type RouteObject } from "react-router";
import { Layout } from "./Layout";
import { RouteError } from "./RouteError";

export const routes: RouteObject[] = [
  {
    path: "/",
    element: <Layout />,
    errorElement: <RouteError />,
    hydrateFallbackElement: <p className="visually-hidden">Loading…</p>,
    children: [
      { index: true, element: <Navigate to="/account" replace /> },
      {
        path: "account",
        lazy: async () => ({ Component: (await import("../features/account/AccountPage")).AccountPage }),
      },
      {
        path: "sources",
        lazy: async () => ({ Component: (await import("../features/sources/SourcesPage")).SourcesPage }),
      },
      {
        path: "library",
        lazy: async () => ({ Component: (await import("../features/library/LibraryPage")).LibraryPage }),
      },
      {
        path: "enrichment",
        lazy: async () => ({
          Component: (await import("../features/enrichment/EnrichmentPage")).EnrichmentPage,
        }),
      },
      {
        path: "charts",
        lazy: async () => ({ Component: (await import("../features/charts/ChartsPage")).ChartsPage }),
      },
      {
        path: "rules",
        lazy: async () => ({ Component: (await import("../features/rules/RulesPage")).RulesPage }),
      },
      {
        path: "rules/overlaps",
        lazy: async () => ({ Component: (await import("../features/rules/OverlapsPage")).OverlapsPage }),
      },
      {
        path: "rules/starters",
        lazy: async () => ({ Component: (await import("../features/rules/StartersPage")).StartersPage }),
      },
      {
        path: "rules/:id/preview",
        lazy: async () => ({ Component: (await import("../features/rules/PreviewPage")).PreviewPage }),
      },
      {
        path: "rules/new",
        lazy: async () => ({ Component: (await import("../features/editor/EditorPage")).EditorPage }),
      },
      {
        path: "rules/:id/edit",
        lazy: async () => ({ Component: (await import("../features/editor/EditorPage")).EditorPage }),
      },
      {
        path: "sync",
        lazy: async () => ({ Component: (await import("../features/sync/SyncPage")).SyncPage }),
        children: [
          {
            index: true,
            lazy: async () => ({ Component: (await import("../features/sync/PlanPage")).PlanPage }),
          },
          {
            path: "backups",
            lazy: async () => ({ Component: (await import("../features/sync/BackupsPage")).BackupsPage }),
          },
          {
            path: "unattended",
            lazy: async () => ({ Component: (await import("../features/sync/UnattendedPage")).UnattendedPage }),
          },
        ],
      },
      { path: "*", lazy: async () => ({ Component: (await import("./NotFound")).NotFound }) },
    ],
  },
];

export function createRouter() {
  return createBrowserRouter(routes);
}
