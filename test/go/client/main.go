// A Go daemon's view of muster: generated stubs (gen/go) over plain gRPC. It calls every unary
// RPC, checks the answers, and exits non-zero on the first surprise. Given an access key and secret,
// it first logs in (AuthService.Login with Basic credentials) and sends the token with every call.
// Run by test/e2e/go-client.test.ts.
package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"time"

	authv1 "muster.local/gen/go/muster/auth/v1"
	workersv1 "muster.local/gen/go/muster/workers/v1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func main() {
	if len(os.Args) != 2 && len(os.Args) != 4 {
		fail("usage: client HOST:PORT [ACCESS_KEY SECRET_KEY]")
	}
	conn, err := grpc.NewClient(os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	check(err, "dial")
	defer conn.Close()
	client := workersv1.NewWorkersServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if len(os.Args) == 4 {
		ctx = login(ctx, conn, os.Args[2], os.Args[3])
	}

	const worker = "go-daemon:gpu0,1"
	_, err = client.Register(ctx, &workersv1.RegisterRequest{Worker: worker, Timeout: 120, Tags: []string{"go"}})
	check(err, "Register")

	now := time.Now()
	for i, at := range []time.Time{now.Add(-61 * time.Second), now} {
		memory := 1024.0 * float64(i+1)
		_, err = client.StatusReport(ctx, &workersv1.StatusReportRequest{
			Worker:    worker,
			Timestamp: at.UnixMilli(),
			Task:      "task-go",
			MachineStats: &workersv1.MachineStats{
				GpuUsage:   []float64{10, 90},
				MemoryUsed: &memory,
			},
		})
		check(err, "StatusReport")
	}

	// A running worker's task arrives twice (cached bytes, then running_time): merged, it has both.
	all, err := client.GetAll(ctx, &workersv1.GetAllRequest{WorkerPattern: "go-*"})
	check(err, "GetAll")
	if len(all.Workers) != 1 || all.Workers[0].Id != worker || all.Workers[0].Task.GetId() != "task-go" ||
		all.Workers[0].RegisterTimeout != 120 || all.Workers[0].Task.RunningTime == nil {
		fail("GetAll: unexpected workers %v", all.Workers)
	}

	count, err := client.GetCount(ctx, &workersv1.GetCountRequest{Tags: []string{"go"}})
	check(err, "GetCount")
	if count.Count != 1 {
		fail("GetCount: %d, want 1", count.Count)
	}

	from, to := float64(now.Add(-2*time.Minute).Unix()), float64(now.Unix()+1)
	stats, err := client.GetStats(ctx, &workersv1.GetStatsRequest{
		WorkerIds: []string{worker},
		FromDate:  &from,
		ToDate:    &to,
		Interval:  3600,
		Items: []*workersv1.StatItem{
			{Key: "gpu_usage", Aggregation: workersv1.Aggregation_AGGREGATION_MAX},
			{Key: "memory_used", Aggregation: workersv1.Aggregation_AGGREGATION_AVG},
		},
		SplitByVariant: true,
	})
	check(err, "GetStats")
	variants := map[string]float64{}
	for _, ws := range stats.Workers {
		for _, m := range ws.Metrics {
			for _, s := range m.Stats {
				for _, v := range s.Values {
					variants[m.Metric+"/"+m.GetVariant()] = max(variants[m.Metric+"/"+m.GetVariant()], v)
				}
			}
		}
	}
	if variants["gpu_usage/0"] != 10 || variants["gpu_usage/1"] != 90 || variants["memory_used/total"] == 0 {
		fail("GetStats: unexpected values %v", variants)
	}

	activity, err := client.GetActivityReport(ctx, &workersv1.GetActivityReportRequest{FromDate: &from, ToDate: &to, Interval: 60})
	check(err, "GetActivityReport")
	active := int32(0)
	for _, c := range activity.Active.GetCounts() {
		active += c
	}
	if active < 2 || len(activity.Total.GetDates()) != len(activity.Total.GetCounts()) {
		fail("GetActivityReport: unexpected %v", activity)
	}

	keys, err := client.GetMetricKeys(ctx, &workersv1.GetMetricKeysRequest{WorkerIds: []string{worker}})
	check(err, "GetMetricKeys")
	if len(keys.Categories) != 2 || keys.Categories[0].Name != "gpu" || keys.Categories[1].Name != "memory" {
		fail("GetMetricKeys: unexpected %v", keys.Categories)
	}

	// Bad input: INVALID_ARGUMENT naming the field, with the ClearML subcode in the trailer.
	var trailer metadata.MD
	_, err = client.Register(ctx, &workersv1.RegisterRequest{Worker: worker, Timeout: -1}, grpc.Trailer(&trailer))
	if status.Code(err) != codes.InvalidArgument || trailer.Get("muster-result-subcode")[0] != "1002" {
		fail("Register with timeout -1: %v, trailer %v", err, trailer)
	}

	_, err = client.Unregister(ctx, &workersv1.UnregisterRequest{Worker: worker})
	check(err, "Unregister")
	fmt.Println("ok: every RPC answered as expected")
}

// login trades the key for a token and returns a context that sends it with every call; it also
// checks that a call without credentials is refused.
func login(ctx context.Context, conn *grpc.ClientConn, accessKey, secretKey string) context.Context {
	_, err := workersv1.NewWorkersServiceClient(conn).GetCount(ctx, &workersv1.GetCountRequest{})
	if status.Code(err) != codes.Unauthenticated {
		fail("GetCount without credentials: %v, want UNAUTHENTICATED", err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(accessKey + ":" + secretKey))
	res, err := authv1.NewAuthServiceClient(conn).Login(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Basic "+basic),
		&authv1.LoginRequest{},
	)
	check(err, "Login")
	if res.Token == "" {
		fail("Login: empty token")
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+res.Token)
}

func check(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
