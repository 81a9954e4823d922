package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/plan"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

// nopRemote refuses every remote call at once: benchmarks must never
// reach the network (a call would show as a failed refresh).
type nopRemote struct{}

var errNoRemote = errors.New("benchmark: no remote calls")

func (nopRemote) Run(context.Context, sshexec.Target, []string, []byte, time.Duration) ([]byte, error) {
	return nil, errNoRemote
}
func (nopRemote) ScanHostKey(context.Context, sshexec.Target) (*sshexec.HostKeyInfo, error) {
	return nil, errNoRemote
}
func (nopRemote) PushBinary(context.Context, sshexec.Target, string, string) (string, error) {
	return "", errNoRemote
}
func (nopRemote) Forget(string) {}

var _ Remote = nopRemote{}

// benchSpecs are 10 services with one daemon on every host: four
// per-host types and six custom containers, 10 daemons per host.
func benchSpecs() []map[string]any {
	all := map[string]any{"host_pattern": "*"}
	specs := []map[string]any{
		{"service_type": "crash", "placement": all},
		{"service_type": "node-exporter", "placement": all},
		{"service_type": "ceph-exporter", "placement": all},
		{"service_type": "promtail", "placement": all},
	}
	for i := 0; i < 6; i++ {
		specs = append(specs, map[string]any{"service_type": "container", "service_id": fmt.Sprintf("app%d", i),
			"placement": all, "spec": map[string]any{"image": "localhost/orch-testapp:latest", "ports": []any{8080 + i}}})
	}
	return specs
}

// benchCluster builds a store with n hosts whose caches are fresh and hold
// exactly the daemons the specs want (with their config digests), so that
// a pass has nothing to do.
func benchCluster(b *testing.B, n int) (*Reconciler, *store.Store) {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "orch.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctl, err := New(Options{Store: st, Remote: nopRemote{}, AgentBinary: "/bin/true"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ctl.CloseRefresh)
	r := NewReconciler(ctl, ReconcilerOptions{Seed: 1})
	now := time.Now()
	err = st.Update(func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.PutHost(store.Host{Name: fmt.Sprintf("node%04d", i), Addr: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	specs := benchSpecs()
	data, _ := json.Marshal(specs)
	docs, err := spec.LoadDocuments(data)
	if err != nil {
		b.Fatal(err)
	}
	cl, _ := st.GetCluster()
	hosts, _ := st.ListHosts()
	snap := &plan.Snapshot{}
	for _, h := range hosts {
		snap.Hosts = append(snap.Hosts, plan.Host{Hostname: h.Name, Addr: h.Addr, Labels: []string{}})
	}
	res, err := plan.Compute(docs, snap, plan.Options{})
	if err != nil {
		b.Fatal(err)
	}
	perHost := map[string][]api.DaemonDescription{}
	running := api.StatusRunning
	digests := map[string]string{}
	for si, sp := range res.Services {
		s := docs[si].Service
		e := &specEntry{rec: store.SpecRecord{ServiceName: s.ServiceName()}, spec: s}
		for _, slot := range sp.ToAdd {
			id := s.ServiceName()[len(s.ServiceType):]
			if id != "" {
				id = id[1:] + "."
			}
			id += slot.Hostname
			ds := daemonSpec{svc: e, daemonType: slot.DaemonType, id: id, host: slot.Hostname,
				ports: append(append([]int(nil), slot.Ports...), containerPorts(s)...)}
			doc, err := r.buildDeploy(cl, &ds, false)
			if err != nil {
				b.Fatal(err)
			}
			digests[ds.name()] = doc.digest
			perHost[slot.Hostname] = append(perHost[slot.Hostname], api.DaemonDescription{
				DaemonType: ds.daemonType, DaemonID: ds.id, DaemonName: ds.name(), Hostname: ds.host,
				ServiceName: s.ServiceName(), Status: &running, StatusDesc: "running", Ports: ds.ports,
				ContainerID: "0123456789ab", ContainerImageID: "feedfacecafe0123", ContainerImageName: doc.req.Image,
				Version: "18.2.1", Created: fmtTime(now), Started: fmtTime(now), LastRefresh: fmtTime(now),
				MemoryUsage: new(int64(50 << 20)), CPUPercentage: "0.25%"})
		}
	}
	// Facts as large as a real host's (~55 KiB: the sysctl map dominates).
	sysctl := map[string]string{}
	for i := range 1100 {
		sysctl[fmt.Sprintf("net.ipv4.conf.veth%03d.some_reasonably_long_parameter_name", i)] = "0"
	}
	factsBlob, _ := json.Marshal(map[string]any{"sysctl_options": sysctl})
	err = st.Update(func(tx *store.Tx) error {
		for _, h := range hosts {
			raw, _ := json.Marshal(perHost[h.Name])
			for kind, body := range map[store.CacheKind]string{
				store.CacheDaemons: string(raw), store.CacheFacts: string(factsBlob),
				store.CacheNetworks: `{"10.0.0.0/8":{"eth0":["` + h.Addr + `"]}}`, store.CacheDevices: `[]`,
			} {
				if err := tx.UpdateHostCache(h.Name, kind, json.RawMessage(body), now); err != nil {
					return err
				}
			}
		}
		for name, d := range digests {
			if err := tx.SetSetting(daemonConfigPrefix+name, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Apply(context.Background(), api.ApplyRequest{Specs: specs}); err != nil {
		b.Fatal(err)
	}
	return r, st
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListDaemons1000x10 is the controller's side of `orch ps` over
// 1,000 hosts with 10 daemons each (store read, decode, events).
func BenchmarkListDaemons1000x10(b *testing.B) {
	r, _ := benchCluster(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		ds, err := r.ListDaemons(api.DaemonFilter{})
		if err != nil || len(ds) != 10000 {
			b.Fatalf("ListDaemons = %d, %v", len(ds), err)
		}
	}
}

// BenchmarkIdlePass1000x10 is one reconcile pass with nothing to do over
// 1,000 hosts, 10 services and 10,000 daemons; it reports the CPU time a
// pass costs (all goroutines) and the heap in use after one.
func BenchmarkIdlePass1000x10(b *testing.B) {
	r, _ := benchCluster(b, 1000)
	ctx := context.Background()
	if r.Pass(ctx) { // the apply's first pass settles the operation
		b.Fatal("the prepared cluster is not converged")
	}
	if r.Pass(ctx) {
		b.Fatal("idle pass changed something")
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if r.Pass(ctx) {
			b.Fatal("idle pass changed something")
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/pass")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	runtime.KeepAlive(r)
}
