package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/store"
)

// benchController runs `orch serve` over a store with hosts × perHost
// cached daemons and facts as large as a real host's (~55 KiB), paused and
// without an SSH key (nothing reaches the network).
func benchController(b *testing.B, hosts, perHost int) string {
	b.Helper()
	dir := b.TempDir()
	db := filepath.Join(dir, "orch.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sysctl := map[string]string{}
	for i := range 1100 {
		sysctl[fmt.Sprintf("net.ipv4.conf.veth%03d.some_reasonably_long_parameter_name", i)] = "0"
	}
	facts, _ := json.Marshal(map[string]any{"sysctl_options": sysctl})
	now := time.Now().UTC()
	running := api.StatusRunning
	err = st.Update(func(tx *store.Tx) error {
		if err := tx.PutCluster(store.Cluster{FSID: "3c8f1a2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b", SSHUser: "root", Paused: true}); err != nil {
			return err
		}
		for i := 0; i < hosts; i++ {
			h := fmt.Sprintf("node%04d", i)
			if err := tx.PutHost(store.Host{Name: h, Addr: fmt.Sprintf("10.0.%d.%d", i/256, i%256)}); err != nil {
				return err
			}
			var ds []api.DaemonDescription
			for j := 0; j < perHost; j++ {
				mem := int64(50 << 20)
				ds = append(ds, api.DaemonDescription{DaemonType: "container", DaemonID: fmt.Sprintf("app%d.%s", j, h),
					DaemonName: fmt.Sprintf("container.app%d.%s", j, h), Hostname: h, ServiceName: fmt.Sprintf("container.app%d", j),
					Status: &running, StatusDesc: "running", Ports: []int{8080 + j}, ContainerID: "0123456789ab",
					ContainerImageID: "feedfacecafe0123", ContainerImageName: "localhost/orch-testapp:latest", Version: "1.0",
					Created: now.Format(api.TimeFormat), Started: now.Format(api.TimeFormat), LastRefresh: now.Format(api.TimeFormat),
					MemoryUsage: &mem, CPUPercentage: "0.25%"})
			}
			raw, _ := json.Marshal(ds)
			if err := tx.UpdateHostCache(h, store.CacheDaemons, raw, now); err != nil {
				return err
			}
			if err := tx.UpdateHostCache(h, store.CacheFacts, facts, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	sock := filepath.Join(dir, "orch.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, _ := TestIO("")
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--socket", sock, "--store", db, "--agent-binary", "/bin/true", "--log-level", "error"}, ios)
	}()
	b.Cleanup(func() { cancel(); <-done })
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if i > 1000 {
			b.Fatal("controller did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return sock
}

// BenchmarkOrchPs1000x10 is `orch ps` end to end (CLI, HTTP over the unix
// socket, the controller reading the store, the table) over 1,000 hosts
// with 10 daemons each.
func BenchmarkOrchPs1000x10(b *testing.B) {
	sock := benchController(b, 1000, 10)
	for _, format := range []string{"plain", "json"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				ios := &IOStreams{In: nil, Out: io.Discard, ErrOut: io.Discard}
				if code := Main(context.Background(), []string{"--socket", sock, "ps", "--format", format}, ios); code != 0 {
					b.Fatalf("orch ps exit %d", code)
				}
			}
			// The controller runs in this process: after a GC, the heap in
			// use is essentially its own (store caches, decoded daemons).
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
			b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MiB")
		})
	}
}
