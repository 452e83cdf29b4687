/**
 * The import graph muster keeps (see the README's Layout): a core below everything, the service
 * above it, stores and edges beside each other, the wiring on top. `npm run lint:imports` checks
 * it, so the shape stays when the code grows.
 */
/** Files directly in src/: the wiring and the server (main, muster, server, config, …). */
const TOP = "^src/[^/]+\\.ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment: "Folders import each other in one direction only.",
      severity: "error",
      scope: "folder",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-module-cycles",
      comment: "No module imports itself through others.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "core-imports-nothing-of-muster",
      comment: "src/core is the shared vocabulary: it imports only src/gen and libraries.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: "^src/(core|gen)/" },
    },
    {
      name: "service-imports-no-edge-or-store",
      comment:
        "src/workers is the service: it sees stores through the core's interfaces and knows no transport.",
      severity: "error",
      from: { path: "^src/workers/" },
      to: { path: `^src/(rpc|compat|ops|presence|stats|auth|queues)/|${TOP}` },
    },
    {
      name: "auth-imports-only-core",
      comment:
        "src/auth (credentials, tokens, roles) knows only the core vocabulary: the edges and the wiring import it, never the reverse.",
      severity: "error",
      from: { path: "^src/auth/" },
      to: { path: "^src/", pathNot: "^src/(core|gen|auth)/" },
    },
    {
      name: "queues-service-imports-only-core",
      comment:
        "src/queues is a service beside src/workers: core only, no store, edge or other service.",
      severity: "error",
      from: { path: "^src/queues/" },
      to: { path: "^src/", pathNot: "^src/(core|gen|queues)/" },
    },
    {
      name: "backend-imports-no-other-backend",
      comment:
        "A store backend (presence/memory, presence/nats, stats/memory, stats/influx) uses the core, " +
        "its own folder and its family's shared helpers (presence/*.ts), nothing of another backend.",
      severity: "error",
      from: { path: "^src/(presence|stats)/([^/]+)/" },
      to: { path: "^src/(presence|stats)/", pathNot: "^src/$1/$2/|^src/$1/[^/]+\\.ts$" },
    },
    {
      name: "shared-store-helpers-import-no-backend",
      comment:
        "Helpers shared by a family's backends (presence/listeners.ts) depend on none of them.",
      severity: "error",
      from: { path: "^src/(presence|stats)/[^/]+\\.ts$" },
      to: { path: "^src/(presence|stats)/[^/]+/" },
    },
    {
      name: "stores-import-no-service-or-edge",
      comment: "Stores sit below the service and the edges: they import neither, nor the wiring.",
      severity: "error",
      from: { path: "^src/(presence|stats)/" },
      to: { path: `^src/(workers|queues|auth|rpc|compat|ops)/|${TOP}` },
    },
    {
      name: "edges-import-no-store-or-other-edge",
      comment:
        "The Connect routes and the ClearML layer bind to the service's type; neither reaches a store or the other edge.",
      severity: "error",
      from: { path: "^src/(rpc|compat)/" },
      to: { path: "^src/(presence|stats|rpc|compat|ops)/", pathNot: "^src/$1/" },
    },
    {
      name: "ops-imports-no-store-service-or-wiring",
      comment:
        "src/ops (health, metrics, request log, operator paths) sees stores through the core's " +
        "interfaces and calls through the RPC context; it knows no backend, service, auth or ClearML code.",
      severity: "error",
      from: { path: "^src/ops/" },
      to: { path: `^src/(presence|stats|workers|queues|auth|compat)/|${TOP}` },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
