import * as path from "node:path";
import { findBinary } from "./server-process.js";

/** grpcurl, installed by scripts/install-test-deps.sh; missing, the tests fail rather than skip. */
export function grpcurlBinary(env: NodeJS.ProcessEnv = process.env): string {
  const goPath = env.GOPATH ?? path.join(env.HOME ?? "/root", "go");
  return findBinary(
    {
      name: "grpcurl",
      envVar: "GRPCURL_BIN",
      fallbacks: [path.join(goPath, "bin", "grpcurl"), "/root/go/bin/grpcurl"],
      installHint: "run scripts/install-test-deps.sh or set GRPCURL_BIN",
    },
    env,
  );
}
