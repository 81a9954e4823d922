package store

import (
	"encoding/json"
	"testing"
	"time"
)

func TestListHostCachesOfCopiesOnlyAskedKinds(t *testing.T) {
	s := openTest(t, Options{})
	at := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	if err := s.PutHost(Host{Name: "h1", Addr: "10.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []CacheKind{CacheFacts, CacheDaemons, CacheNetworks} {
		if err := s.UpdateHostCache("h1", k, json.RawMessage(`{"k":"`+string(k)+`"}`), at); err != nil {
			t.Fatal(err)
		}
	}
	var got []HostCache
	if err := s.View(func(tx *Tx) (err error) { got, err = tx.ListHostCachesOf(CacheDaemons); return }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d caches", len(got))
	}
	c := got[0]
	if string(c.Daemons.Data) != `{"k":"daemons"}` || !c.Daemons.Refreshed.Equal(at) {
		t.Errorf("daemons = %s %v", c.Daemons.Data, c.Daemons.Refreshed)
	}
	if c.Facts.Data != nil || !c.Facts.Refreshed.Equal(at) || c.Networks.Data != nil || !c.Networks.Refreshed.Equal(at) {
		t.Errorf("facts/networks = %s %v / %s %v: want times only", c.Facts.Data, c.Facts.Refreshed, c.Networks.Data, c.Networks.Refreshed)
	}
	if !c.Devices.Refreshed.IsZero() {
		t.Errorf("devices never refreshed, got %v", c.Devices.Refreshed)
	}
}
