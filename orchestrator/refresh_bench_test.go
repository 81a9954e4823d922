package orchestrator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/sshexec/sshtest"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

// The refresh benchmark runs 1,000 in-process SSH servers that answer the
// agent protocol with realistic JSON (refresh_fake_test.go: ~55 KiB of
// facts with a full sysctl map, four devices, three networks, nine `ls`
// entries) in a child process — this test binary re-executed into
// TestRefreshBenchFleet — so that the memory and CPU measured are the
// controller's alone. Both share the machine's cores.
//
//	go test -run '^$' -bench RefreshCold -benchtime 3x ./orchestrator
const (
	fleetEnvFSID = "ORCH_REFRESH_BENCH_FSID"
	benchHosts   = 1000
)

// TestMain serves the benchmark's fleet of fake agent hosts when this
// process was started as one (sshtest.StartFleet).
func TestMain(m *testing.M) {
	sshtest.ServeFleetIfChild(func(i int, scratch string) sshtest.Options {
		fsid := os.Getenv(fleetEnvFSID)
		a := newAgentAnswers(benchHostName(i), func() string { return fsid })
		a.out["ls"] = fakeLs(a.host, fsid) // rendered once, not per request
		return sshtest.Options{Handler: a.handleFast, SFTPDir: scratch}
	})
	os.Exit(m.Run())
}

// handleFast answers from the pre-rendered outputs without bookkeeping.
func (a *agentAnswers) handleFast(_ context.Context, e sshtest.Exec) int {
	sub, _ := agentSub(e.Command)
	if out, ok := a.out[sub]; ok {
		_, _ = e.Stdout.Write(out)
		return 0
	}
	fmt.Fprintf(e.Stderr, "unexpected command %q\n", e.Command)
	return 127
}

func benchHostName(i int) string { return fmt.Sprintf("host-%04d", i) }

// startRefreshFleet runs n fake agent hosts in a child process.
func startRefreshFleet(b *testing.B, n int, clientKey ssh.PublicKey, fsid string) ([]sshtest.FleetHost, int) {
	b.Helper()
	return sshtest.StartFleet(b, n, clientKey, fleetEnvFSID+"="+fsid)
}

// portRemote sends each host to its fleet server's port (the fleet shares
// 127.0.0.1, so the port is what tells hosts apart).
type portRemote struct {
	Remote
	ports map[string]int
}

func (r portRemote) Run(ctx context.Context, t sshexec.Target, argv []string, stdin []byte, timeout time.Duration) ([]byte, error) {
	t.Port = r.ports[t.Name]
	return r.Remote.Run(ctx, t, argv, stdin, timeout)
}

func (r portRemote) PushBinary(ctx context.Context, t sshexec.Target, fsid, localPath string) (string, error) {
	t.Port = r.ports[t.Name]
	return r.Remote.PushBinary(ctx, t, fsid, localPath)
}

// procStatus reads a /proc/self/status field in MiB.
func procStatus(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func childCPUms(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data)[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) * 10
}

func selfCPUms() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// BenchmarkRefreshCold1000: one full refresh (daemons, facts, networks,
// devices) of 1,000 hosts by a new controller: empty caches, no SSH
// connection yet, the agent path unknown (learnt from one push). Each
// iteration uses a fresh store and connection pool.
func BenchmarkRefreshCold1000(b *testing.B) {
	dir := b.TempDir()
	agentBin := filepath.Join(dir, "orch-agent")
	if err := os.WriteFile(agentBin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	// A first store gives the cluster identity the fleet must trust.
	seed, err := store.Open(filepath.Join(dir, "seed.db"), store.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	seedCtl, err := New(Options{Store: seed, Remote: &PoolRemote{Pool: sshexec.New(sshexec.Options{})}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := seedCtl.GenerateKey(context.Background()); err != nil {
		b.Fatal(err)
	}
	pub, _ := seedCtl.PublicKey()
	cl, _ := seed.GetCluster()
	priv, _ := seed.GetSecret(store.SecretSSHPrivateKey)
	seed.Close()

	clientKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		b.Fatal(err)
	}
	fleet, pid := startRefreshFleet(b, benchHosts, clientKey, cl.FSID)
	ports := make(map[string]int, len(fleet))
	for i, h := range fleet {
		ports[benchHostName(i)] = h.Port
	}

	var wall, selfCPU, childCPU, heapMB, sysMB float64
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		st, err := store.Open(filepath.Join(dir, fmt.Sprintf("orch-%d.db", i)), store.Options{Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		err = st.Update(func(tx *store.Tx) error {
			if err := tx.PutCluster(cl); err != nil {
				return err
			}
			if err := tx.SetSecret(store.SecretSSHPrivateKey, priv); err != nil {
				return err
			}
			for j, h := range fleet {
				if err := tx.PutHost(store.Host{Name: benchHostName(j), Addr: h.Addr, HostKey: h.HostKey}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		pool := sshexec.New(sshexec.Options{RemoteRoot: filepath.Join(dir, "remote")})
		ctl, err := New(Options{Store: st, Remote: portRemote{Remote: &PoolRemote{Pool: pool}, ports: ports}, AgentBinary: agentBin})
		if err != nil {
			b.Fatal(err)
		}
		if v, _ := strconv.Atoi(os.Getenv("ORCH_BENCH_CONCURRENCY")); v > 0 {
			ctl.ConfigureRefresh(RefreshOptions{Concurrency: v})
		}
		runtime.GC()
		c0, s0, t0 := childCPUms(pid), selfCPUms(), time.Now()
		b.StartTimer()
		res, err := ctl.refreshPass(context.Background(), false)
		b.StopTimer()
		wall += time.Since(t0).Seconds()
		selfCPU += selfCPUms() - s0
		childCPU += childCPUms(pid) - c0
		if err != nil {
			b.Fatal(err)
		}
		if res.probed != benchHosts || res.failed != 0 || res.offline != 0 {
			fs, _ := ctl.RefreshFailures()
			b.Fatalf("pass = %+v; failures: %+v", res, fs)
		}
		// Memory while the controller holds every connection and the store.
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heapMB = max(heapMB, float64(ms.HeapInuse)/(1<<20))
		sysMB = max(sysMB, float64(ms.Sys)/(1<<20))
		hc, err := st.GetHostCache(benchHostName(benchHosts - 1))
		if err != nil || hc.Facts.Refreshed.IsZero() || hc.Devices.Refreshed.IsZero() || hc.Daemons.Refreshed.IsZero() || hc.Networks.Refreshed.IsZero() {
			b.Fatalf("last host's cache: %+v, %v", hc.RefreshNeeded, err)
		}
		ctl.CloseRefresh()
		pool.Close()
		st.Close()
	}
	n := float64(b.N)
	b.ReportMetric(wall/n, "s/refresh")
	b.ReportMetric(selfCPU/n, "ctl-cpu-ms/op")
	b.ReportMetric(childCPU/n, "fleet-cpu-ms/op")
	b.ReportMetric(heapMB, "ctl-heap-MB")
	b.ReportMetric(sysMB, "ctl-sys-MB")
	b.ReportMetric(procStatus("VmHWM"), "ctl-peak-rss-MB")
}
