import { findBinary, goInstalled } from "./server-process.js";

/** grpcurl, installed by scripts/install-test-deps.sh; missing, the tests fail rather than skip. */
export function grpcurlBinary(env: NodeJS.ProcessEnv = process.env): string {
  return findBinary(
    {
      name: "grpcurl",
      envVar: "GRPCURL_BIN",
      fallbacks: [goInstalled("grpcurl", env), "/root/go/bin/grpcurl"],
      installHint: "run scripts/install-test-deps.sh or set GRPCURL_BIN",
    },
    env,
  );
}
