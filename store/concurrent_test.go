package store

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentWriters runs read-modify-write updates, appends and reads
// from many goroutines at once; run with -race. Every increment must land.
func TestConcurrentWriters(t *testing.T) {
	const (
		writers = 8
		rounds  = 25
	)
	s := openTest(t, Options{Now: time.Now, MaxEventsPerSubject: writers * rounds})
	op, err := s.CreateOperation(Operation{Kind: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		work  func(w, i int) error
		check func(t *testing.T)
	}{
		{"read-modify-write operation", func(w, i int) error {
			_, err := s.UpdateOperation(op.ID, func(o *Operation) error {
				o.Messages = append(o.Messages, fmt.Sprintf("w%d-%d", w, i))
				o.Progress = float64(len(o.Messages)) / (writers * rounds)
				return nil
			})
			return err
		}, func(t *testing.T) {
			got, err := s.GetOperation(op.ID)
			if err != nil || len(got.Messages) != writers*rounds || got.Progress != 1 {
				t.Errorf("operation has %d messages, progress %v (err %v); want %d and 1", len(got.Messages), got.Progress, err, writers*rounds)
			}
		}},
		{"hosts and caches per writer", func(w, i int) error {
			return s.Update(func(tx *Tx) error {
				name := fmt.Sprintf("h%02d-%03d", w, i)
				if err := tx.PutHost(Host{Name: name}); err != nil {
					return err
				}
				if err := tx.UpdateHostCache(name, CacheDaemons, json.RawMessage(fmt.Sprintf(`[{"n":%d}]`, i)), time.Time{}); err != nil {
					return err
				}
				_, err := tx.ListHosts() // readers interleave with writers
				return err
			})
		}, func(t *testing.T) {
			hosts, err := s.ListHosts()
			if err != nil || len(hosts) != writers*rounds {
				t.Errorf("%d hosts (err %v), want %d", len(hosts), err, writers*rounds)
			}
			for i := 1; i < len(hosts); i++ {
				if hosts[i-1].Name >= hosts[i].Name {
					t.Fatalf("hosts not sorted at %d: %s >= %s", i, hosts[i-1].Name, hosts[i].Name)
				}
			}
			caches, err := s.ListHostCaches()
			if err != nil || len(caches) != writers*rounds {
				t.Errorf("%d caches (err %v), want %d", len(caches), err, writers*rounds)
			}
		}},
		{"events on one subject", func(w, i int) error {
			_, err := s.AppendEvent(Event{Kind: EventService, Subject: "rgw.a", Message: fmt.Sprintf("w%d-%d", w, i)})
			return err
		}, func(t *testing.T) {
			evs, err := s.ListEvents(EventService, "rgw.a")
			if err != nil || len(evs) != writers*rounds {
				t.Fatalf("%d events (err %v), want %d", len(evs), err, writers*rounds)
			}
			for i, e := range evs {
				if e.Seq != uint64(i+1) {
					t.Fatalf("event %d has seq %d: gaps or reordering", i, e.Seq)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, writers*rounds)
			for w := range writers {
				wg.Go(func() {
					for i := range rounds {
						if err := tt.work(w, i); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			tt.check(t)
		})
	}
}
