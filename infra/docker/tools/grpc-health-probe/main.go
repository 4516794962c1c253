// grpc-health-probe: a minimal stand-in for the well-known grpc_health_probe
// tool, used by the Helfy Temporal stand-in images' health checks.
//
// It calls grpc.health.v1.Health/Check for one service (by default Temporal's
// frontend, temporal.api.workflowservice.v1.WorkflowService) and exits 0 only
// when the answer is SERVING. An open port is not enough.
//
//	grpc-health-probe [-addr host:port] [-service name] [-connect-timeout 5s] [-rpc-timeout 5s]
//
// -addr defaults to $TEMPORAL_ADDRESS, then <this host's name>:7233: the
// Temporal server image binds to the container's own address (BIND_ON_IP),
// not to 127.0.0.1, so a probe run inside it must use that address.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	defAddr := os.Getenv("TEMPORAL_ADDRESS")
	if defAddr == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "127.0.0.1"
		}
		defAddr = net.JoinHostPort(host, "7233")
	}
	addr := flag.String("addr", defAddr, "host:port of the gRPC server")
	service := flag.String("service", "temporal.api.workflowservice.v1.WorkflowService", "service name to check (empty = whole server)")
	connectTimeout := flag.Duration("connect-timeout", 5*time.Second, "time to wait for the connection")
	rpcTimeout := flag.Duration("rpc-timeout", 5*time.Second, "time to wait for the health answer")
	flag.Parse()

	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %s: %v\n", *addr, err)
		os.Exit(2)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), *connectTimeout+*rpcTimeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: *service}, grpc.WaitForReady(false))
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: health check of %q at %s: %v\n", *service, *addr, err)
		os.Exit(3)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		fmt.Fprintf(os.Stderr, "%s: %s\n", *service, resp.GetStatus())
		os.Exit(4)
	}
	fmt.Printf("%s: SERVING\n", *service)
}
