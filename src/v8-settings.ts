// V8 settings muster applies to itself, whoever launches it (npm start, `node dist/main.js`, a
// container): main.ts imports this module first, before anything allocates at scale.
import { setFlagsFromString } from "node:v8";

/**
 * No allocation-site pretenuring. V8 watches where objects are made, and once most of a site's
 * objects outlive the young generation it makes that site's objects in the old generation
 * directly. muster's stored records are made by the same code (protobuf-es's message and list
 * construction) as the messages of every request, which die within the call: the sites were
 * pretenured, each request's objects went to the old generation, and held what they point to
 * through the young generation's collections. Measured at 50,000 embedded agents (bench/simulate.ts,
 * `--trace-gc-nvp`): bytes promoted per report 1,107 → 285; in two back-to-back pairs of runs, RSS
 * 280–385 → 197–210 MB and 14–20 % less CPU per report (BENCHMARKS.md, seventh round). Node
 * refuses the flag in NODE_OPTIONS, hence here.
 */
setFlagsFromString("--no-allocation-site-pretenuring");
