package store

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// daemonsJSON is a realistic "cephadm ls" result: n daemons of ~350 bytes.
func daemonsJSON(host string, n int) json.RawMessage {
	type daemon struct {
		Name           string   `json:"name"`
		Style          string   `json:"style"`
		FSID           string   `json:"fsid"`
		Systemd        string   `json:"systemd_unit"`
		Enabled        bool     `json:"enabled"`
		State          string   `json:"state"`
		ContainerID    string   `json:"container_id"`
		ContainerImage string   `json:"container_image_name"`
		Digests        []string `json:"container_image_digests"`
		Version        string   `json:"version"`
		Started        string   `json:"started"`
		MemoryUsage    int64    `json:"memory_usage"`
	}
	ds := make([]daemon, n)
	for i := range ds {
		name := fmt.Sprintf("osd.%d", i)
		ds[i] = daemon{Name: name, Style: "cephadm:v1", FSID: "3a1b2c3d-0000-4000-8000-000000000000",
			Systemd: "ceph-3a1b2c3d@" + name, Enabled: true, State: "running", ContainerID: "4f3e2d1c0b0a",
			ContainerImage: "quay.io/ceph/ceph:v18.2.1", Digests: []string{"quay.io/ceph/ceph@sha256:0123456789abcdef"},
			Version: "18.2.1", Started: "2024-05-06T07:08:09Z", MemoryUsage: 1 << 30}
	}
	raw, _ := json.Marshal(ds)
	return raw
}

func seedHosts(b *testing.B, s *Store, n int) {
	b.Helper()
	err := s.Update(func(tx *Tx) error {
		for i := range n {
			name := fmt.Sprintf("host%04d", i)
			if err := tx.PutHost(Host{Name: name, Addr: fmt.Sprintf("10.0.%d.%d", i/250, i%250), Labels: []string{"osd"},
				HostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm3cnW0IH5J6V7Z1VQp3+7tD1O3W0q9xQ"}); err != nil {
				return err
			}
			if err := tx.UpdateHostCache(name, CacheDaemons, daemonsJSON(name, 10), time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkListHostCaches1000x10Daemons(b *testing.B) {
	s := openTest(b, Options{})
	seedHosts(b, s, 1000)
	b.ReportAllocs()
	for b.Loop() {
		cs, err := s.ListHostCaches()
		if err != nil || len(cs) != 1000 {
			b.Fatal(len(cs), err)
		}
	}
}

func BenchmarkListHosts1000(b *testing.B) {
	s := openTest(b, Options{})
	seedHosts(b, s, 1000)
	b.ReportAllocs()
	for b.Loop() {
		hs, err := s.ListHosts()
		if err != nil || len(hs) != 1000 {
			b.Fatal(len(hs), err)
		}
	}
}

func BenchmarkGetHostCache(b *testing.B) {
	s := openTest(b, Options{})
	seedHosts(b, s, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetHostCache("host0500"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateHostCache is one committed (fsync'd) transaction per op.
func BenchmarkUpdateHostCache(b *testing.B) {
	s := openTest(b, Options{})
	seedHosts(b, s, 1000)
	data := daemonsJSON("host0500", 10)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.UpdateHostCache("host0500", CacheDaemons, data, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateHostCacheBatch100 refreshes 100 hosts in one transaction, as
// a reconciler pass that probed many hosts would.
func BenchmarkUpdateHostCacheBatch100(b *testing.B) {
	s := openTest(b, Options{})
	seedHosts(b, s, 1000)
	data := daemonsJSON("h", 10)
	b.ReportAllocs()
	for b.Loop() {
		err := s.Update(func(tx *Tx) error {
			for i := range 100 {
				if err := tx.UpdateHostCache(fmt.Sprintf("host%04d", i*10), CacheDaemons, data, time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	s := openTest(b, Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendEvent(Event{Kind: EventDaemon, Subject: "osd.3", Message: "Deployed osd.3 on host 'host0003'"}); err != nil {
			b.Fatal(err)
		}
	}
}
