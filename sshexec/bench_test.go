package sshexec

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/orchceph/orch/sshexec/sshtest"
	"golang.org/x/crypto/ssh"
)

// The fan-out benchmarks run the 1,000 SSH servers in a child process
// (sshtest.StartFleet) so that the memory and CPU reported are the
// client's alone. Both share the machine's cores.
func TestMain(m *testing.M) {
	sshtest.ServeFleetIfChild(func(int, string) sshtest.Options { return sshtest.Options{Handler: okHandler} })
	os.Exit(m.Run())
}

// startFleet runs n servers in a child process and returns targets for
// them and the child's pid.
func startFleet(b *testing.B, n int, key ssh.Signer) ([]Target, int) {
	b.Helper()
	hosts, pid := sshtest.StartFleet(b, n, key.PublicKey())
	targets := make([]Target, len(hosts))
	for i, h := range hosts {
		targets[i] = Target{Name: fmt.Sprintf("host-%04d", i), Addr: h.Addr, Port: h.Port, Signer: key, HostKey: h.HostKey}
	}
	return targets, pid
}

// cpuTime is the user+system CPU used so far by this process and by pid.
func cpuTime(pid int) (self, other float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
	}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// fields after the ")" of comm: utime and stime are 12th and 13th
		if i := strings.LastIndexByte(string(data), ')'); i > 0 {
			f := strings.Fields(string(data)[i+1:])
			if len(f) > 13 {
				u, _ := strconv.ParseFloat(f[11], 64)
				st, _ := strconv.ParseFloat(f[12], 64)
				other = (u + st) * 10 // clock ticks of 10 ms
			}
		}
	}
	return self, other
}

// cpuMeter accumulates the CPU of timed sections.
type cpuMeter struct{ self, other, s0, o0 float64 }

func (m *cpuMeter) start(pid int) { m.s0, m.o0 = cpuTime(pid) }
func (m *cpuMeter) stop(pid int) {
	s, o := cpuTime(pid)
	m.self += s - m.s0
	m.other += o - m.o0
}
func (m *cpuMeter) report(b *testing.B) {
	b.ReportMetric(m.self/float64(b.N), "client-cpu-ms/op")
	b.ReportMetric(m.other/float64(b.N), "server-cpu-ms/op")
}

func poolFor(b *testing.B, targets []Target) (*Pool, []string) {
	p := New(Options{})
	names := make([]string, len(targets))
	for i, t := range targets {
		if err := p.Add(t); err != nil {
			b.Fatal(err)
		}
		names[i] = t.Name
	}
	return p, names
}

func checkAll(b *testing.B, res []HostResult[Result]) {
	if err := Errors(res); err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		if string(r.Value.Stdout) != "ok\n" {
			b.Fatalf("%s: stdout %q", r.Host, r.Value.Stdout)
		}
	}
}

// reportClientMemory records the client's memory while it holds the pool's
// connections: Go heap in use, memory obtained from the OS, and RSS.
func reportClientMemory(b *testing.B) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "client-heap-MB")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "client-sys-MB")
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				b.ReportMetric(kb/1024, "client-rss-MB")
			}
		}
	}
}

const benchHosts = 1000

// BenchmarkFanOut1000Cold: one command on 1,000 hosts over new
// connections (dial + handshake + exec), concurrency 50.
func BenchmarkFanOut1000Cold(b *testing.B) {
	key := newSigner(b)
	targets, pid := startFleet(b, benchHosts, key)
	argv := []string{"gather-facts", "--format", "json"}
	var cpu cpuMeter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, names := poolFor(b, targets)
		cpu.start(pid)
		b.StartTimer()
		res := p.RunAll(context.Background(), names, DefaultFanOutLimit, argv, RunOptions{})
		b.StopTimer()
		cpu.stop(pid)
		checkAll(b, res)
		if i == b.N-1 {
			reportClientMemory(b)
		}
		p.Close()
		b.StartTimer()
	}
	b.StopTimer()
	cpu.report(b)
}

// BenchmarkFanOut1000Warm: the same command over the pool's persistent
// connections.
func BenchmarkFanOut1000Warm(b *testing.B) {
	key := newSigner(b)
	targets, pid := startFleet(b, benchHosts, key)
	p, names := poolFor(b, targets)
	defer p.Close()
	argv := []string{"gather-facts", "--format", "json"}
	checkAll(b, p.RunAll(context.Background(), names, DefaultFanOutLimit, argv, RunOptions{}))
	var cpu cpuMeter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cpu.start(pid)
		res := p.RunAll(context.Background(), names, DefaultFanOutLimit, argv, RunOptions{})
		b.StopTimer()
		cpu.stop(pid)
		checkAll(b, res)
		b.StartTimer()
	}
	b.StopTimer()
	cpu.report(b)
	reportClientMemory(b)
}
