/// <reference types="vitest/config" />
// Build: hashed files under dist/assets (served with long cache headers by the API server),
// one chunk per screen, and a manifest the size test reads (tests/web/test_bundle_size.py).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
    target: "es2022",
  },
  server: {
    // `npm run dev` talks to a `sap serve` on the default port; the server must list the dev
    // origin in SAP_ALLOWED_ORIGINS to accept its writes (docs/operations.md).
    proxy: Object.fromEntries(
      ["/auth", "/spotify", "/pipeline", "/data", "/openapi.json", "/emulator"].map((path) => [
        path,
        { target: "http://127.0.0.1:8888", changeOrigin: false },
      ]),
    ),
  },
  test: {
    environment: "jsdom",
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
