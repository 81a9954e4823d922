// Command orch is an SSH-based, agentless orchestrator for Ceph clusters,
// compatible with cephadm's specs and `ceph orch` habits.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/orchceph/orch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.SystemIO())
	stop()
	os.Exit(code)
}
