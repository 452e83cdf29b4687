import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { grpcurlBinary } from "../harness/grpcurl.js";
import { startTestServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);

describe("grpcurl through server reflection", () => {
  let muster: TestServer;
  /** grpcurl [-plaintext, ...flags] ADDRESS ...command */
  let grpcurl: (flags: string[], ...command: string[]) => Promise<string>;
  beforeAll(async () => {
    const binary = grpcurlBinary();
    muster = await startTestServer();
    grpcurl = async (flags, ...command) => {
      const address = `127.0.0.1:${muster.port}`;
      return (await run(binary, ["-plaintext", ...flags, address, ...command])).stdout;
    };
  });
  afterAll(async () => {
    await muster.close();
  });

  it("lists the service and describes every method", async () => {
    const services = (await grpcurl([], "list")).trim().split("\n");
    expect(services).toContain(WorkersService.typeName);
    const methods = (await grpcurl([], "list", WorkersService.typeName)).trim().split("\n");
    expect(methods.sort()).toEqual(
      WorkersService.methods.map((m) => `${WorkersService.typeName}.${m.name}`).sort(),
    );
    expect(await grpcurl([], "describe", "muster.workers.v1.StatItem")).toContain(
      "defined_only: true",
    );
  });

  it("calls RPCs with JSON it builds from the reflected schema", async () => {
    await grpcurl(
      ["-d", '{"worker": "grpcurl-1", "tags": ["cli"]}'],
      `${WorkersService.typeName}/Register`,
    );
    const count = JSON.parse(
      await grpcurl(["-d", '{"tags": ["cli"]}'], `${WorkersService.typeName}/GetCount`),
    );
    expect(count).toEqual({ count: 1 });
    const all = JSON.parse(
      await grpcurl(["-d", '{"workerPattern": "grpcurl-*"}'], `${WorkersService.typeName}/GetAll`),
    );
    expect(all.workers.map((w: { id: string }) => w.id)).toEqual(["grpcurl-1"]);
    await grpcurl(["-d", '{"worker": "grpcurl-1"}'], `${WorkersService.typeName}/Unregister`);
  });

  it("shows bad input as InvalidArgument naming the field", async () => {
    const failure = await grpcurl(
      ["-d", '{"worker": "w", "timeout": -1}'],
      `${WorkersService.typeName}/Register`,
    ).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(failure).toContain("InvalidArgument");
    expect(failure).toContain("timeout");
  });
});
