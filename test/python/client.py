"""A Python daemon's view of muster: stubs generated from the protos with grpcio-tools, over gRPC.

Usage: client.py PROTO_DIR HOST:PORT [ACCESS_KEY SECRET_KEY]. Generates the stubs into a temporary
directory, calls every unary RPC, checks the answers, and exits non-zero on the first surprise. Given
an access key and secret, it first logs in (AuthService.Login with Basic credentials) and sends the
token with every call.
"""

import base64
import importlib
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_tools import protoc


def generate(proto_dir: Path, out: Path) -> None:
    files = [str(p.relative_to(proto_dir)) for p in proto_dir.rglob("*.proto")]
    well_known = str(Path(protoc.__file__).parent / "_proto")
    args = ["protoc", f"-I{proto_dir}", f"-I{well_known}", f"--python_out={out}", f"--grpc_python_out={out}"]
    # No __init__.py files: namespace packages let the generated google.api live beside the
    # installed google.protobuf.
    if protoc.main(args + files) != 0:
        sys.exit("protoc failed")


class BearerToken(grpc.UnaryUnaryClientInterceptor):
    """Sends `authorization: Bearer <token>` with every unary call."""

    def __init__(self, token: str) -> None:
        self.metadata = (("authorization", f"Bearer {token}"),)

    def intercept_unary_unary(self, continuation, details, request):
        # grpc passes the details as a namedtuple: _replace makes a copy with the metadata added.
        details = details._replace(metadata=tuple(details.metadata or ()) + self.metadata)
        return continuation(details, request)


def login(channel: grpc.Channel, access_key: str, secret_key: str) -> grpc.Channel:
    """Trades the key for a token (checking that a call without one is refused) and returns a
    channel that sends the token."""
    pb = importlib.import_module("muster.workers.v1.workers_pb2")
    rpc = importlib.import_module("muster.workers.v1.workers_pb2_grpc")
    auth = importlib.import_module("muster.auth.v1.auth_pb2")
    auth_rpc = importlib.import_module("muster.auth.v1.auth_pb2_grpc")
    try:
        rpc.WorkersServiceStub(channel).GetCount(pb.GetCountRequest())
        expect(False, "a call without credentials was accepted")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.UNAUTHENTICATED, f"code {error.code()}")
    basic = base64.b64encode(f"{access_key}:{secret_key}".encode()).decode()
    token = auth_rpc.AuthServiceStub(channel).Login(
        auth.LoginRequest(), metadata=(("authorization", f"Basic {basic}"),)
    ).token
    expect(token.count(".") == 2, f"token {token!r} is not a JWT")
    return grpc.intercept_channel(channel, BearerToken(token))


def expect(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"unexpected: {what}")


def main() -> None:
    proto_dir, address = Path(sys.argv[1]).resolve(), sys.argv[2]
    with tempfile.TemporaryDirectory() as out:
        generate(proto_dir, Path(out))
        sys.path.insert(0, out)
        pb = importlib.import_module("muster.workers.v1.workers_pb2")
        types = importlib.import_module("muster.workers.v1.types_pb2")
        rpc = importlib.import_module("muster.workers.v1.workers_pb2_grpc")

        with grpc.insecure_channel(address) as plain:
            channel = login(plain, sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 else plain
            client = rpc.WorkersServiceStub(channel)
            worker = "py-daemon:gpu0"
            client.Register(pb.RegisterRequest(worker=worker, timeout=90, queues=["q"], tags=["py"]))
            now_ms = int(time.time() * 1000)
            for i, at in enumerate([now_ms - 61_000, now_ms]):
                stats = types.MachineStats(cpu_usage=[20.0 + i], gpu_usage=[50.0, 70.0], memory_used=0.0)
                client.StatusReport(pb.StatusReportRequest(worker=worker, timestamp=at, task="task-py", machine_stats=stats))

            listed = client.GetAll(pb.GetAllRequest(worker_pattern="py-*")).workers
            expect([w.id for w in listed] == [worker], f"GetAll {listed}")
            expect(listed[0].task.id == "task-py" and listed[0].register_timeout == 90, f"worker {listed[0]}")
            # muster sends a running worker's task twice (cached bytes, then running_time): the
            # parser must merge them into one task that has both.
            expect(listed[0].task.HasField("running_time") and listed[0].task.running_time >= 0,
                   f"running_time {listed[0].task}")
            expect([q.id for q in listed[0].queues] == ["q"], f"queues {listed[0].queues}")
            expect(client.GetCount(pb.GetCountRequest(tags=["py"])).count == 1, "GetCount")

            frm, to = now_ms / 1000 - 120, now_ms / 1000 + 1
            answer = client.GetStats(pb.GetStatsRequest(
                worker_ids=[worker], from_date=frm, to_date=to, interval=3600,
                items=[types.StatItem(key="memory_used", aggregation=types.AGGREGATION_MIN),
                       types.StatItem(key="gpu_usage", category=types.AGGREGATION_MAX)],
            ))
            metrics = {m.metric: [list(s.values) for s in m.stats] for m in answer.workers[0].metrics}
            expect(list(metrics) == ["memory_used", "gpu_usage"], f"metric order {list(metrics)}")
            expect(all(v == 0.0 for v in metrics["memory_used"][0]), f"zeros kept {metrics}")
            expect(all(v == 70.0 for v in metrics["gpu_usage"][0]), f"max over variants {metrics}")

            activity = client.GetActivityReport(pb.GetActivityReportRequest(from_date=frm, to_date=to, interval=60))
            expect(sum(activity.active.counts) >= 2, f"activity {activity}")
            keys = client.GetMetricKeys(pb.GetMetricKeysRequest(worker_ids=[worker])).categories
            expect([c.name for c in keys] == ["cpu", "gpu", "memory"], f"categories {keys}")

            try:
                client.GetStats(pb.GetStatsRequest(from_date=to, to_date=frm, interval=60, items=[types.StatItem(key="cpu_usage")]))
                expect(False, "from_date >= to_date accepted")
            except grpc.RpcError as error:
                trailers = dict(error.trailing_metadata() or ())
                expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT, f"code {error.code()}")
                expect(trailers.get("muster-result-subcode") == "16", f"trailers {trailers}")

            client.Unregister(pb.UnregisterRequest(worker=worker))
            expect(client.GetCount(pb.GetCountRequest()).count == 0, "Unregister")
    print("ok: every RPC answered as expected")


if __name__ == "__main__":
    main()
