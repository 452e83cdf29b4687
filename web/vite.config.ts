// Builds the dashboard (web/) into dist-web/, which muster serves at "/" (src/ui/static.ts).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  logLevel: "warn",
  build: {
    outDir: here("../dist-web"),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development: RPCs go to a local muster.
    proxy: { "/muster.": "http://127.0.0.1:8008", "/auth.login": "http://127.0.0.1:8008" },
  },
});
