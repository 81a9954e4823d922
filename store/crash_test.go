package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Every crash-writer batch rewrites crashSlots hosts, their daemon caches,
// an event and the last_batch setting in one transaction. A batch is
// complete when every slot carries the same batch id as last_batch and every
// payload's checksum verifies.
const (
	crashSlots      = 64
	crashLastBatch  = "crash/last_batch"
	crashSubject    = "crash"
	crashMaxPayload = 24 << 10
)

type crashPayload struct {
	Batch int    `json:"batch"`
	Slot  int    `json:"slot"`
	Pad   string `json:"pad"`
	Sum   string `json:"sum"`
}

func crashSum(batch, slot int, pad string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%d/%d/%s", batch, slot, pad)))
	return hex.EncodeToString(h[:])
}

func crashSlotName(i int) string { return fmt.Sprintf("slot-%03d", i) }

// crashWriter is the child: it writes batches forever, announcing each
// before it starts ("begin N") and after it is committed ("committed N").
func crashWriter(path string) error {
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	last := 0
	if v, err := s.GetSetting(crashLastBatch); err == nil {
		last, _ = strconv.Atoi(v)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	for batch := last + 1; ; batch++ {
		fmt.Printf("ORCH begin %d\n", batch)
		err := s.Update(func(tx *Tx) error { return writeCrashBatch(tx, batch) })
		if err != nil {
			return err
		}
		fmt.Printf("ORCH committed %d\n", batch)
	}
}

// writeCrashBatch rewrites every slot with batch's records, payload sizes
// varying per batch.
func writeCrashBatch(tx *Tx, batch int) error {
	rng := rand.New(rand.NewPCG(uint64(batch), 7))
	for i := range crashSlots {
		name := crashSlotName(i)
		if err := tx.PutHost(Host{Name: name, Addr: "10.0.0.1", Labels: []string{"batch-" + strconv.Itoa(batch)},
			Location: map[string]string{"batch": strconv.Itoa(batch)}}); err != nil {
			return err
		}
		pad := strings.Repeat(string(rune('a'+rng.IntN(26))), 1+rng.IntN(crashMaxPayload))
		raw, err := json.Marshal(crashPayload{Batch: batch, Slot: i, Pad: pad, Sum: crashSum(batch, i, pad)})
		if err != nil {
			return err
		}
		if err := tx.UpdateHostCache(name, CacheDaemons, raw, time.Time{}); err != nil {
			return err
		}
	}
	if _, err := tx.AppendEvent(Event{Kind: EventService, Subject: crashSubject, Message: "batch " + strconv.Itoa(batch)}); err != nil {
		return err
	}
	return tx.SetSetting(crashLastBatch, strconv.Itoa(batch))
}

// verifyCrashStore opens the store after a kill and fails the test unless
// checkCrashStore accepts it. It returns the batch the store holds.
func verifyCrashStore(t *testing.T, path string) int {
	t.Helper()
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	last, err := checkCrashStore(s)
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// checkCrashStore proves the store holds exactly one complete batch (or
// none) and that bbolt's own consistency check passes. It returns the batch.
func checkCrashStore(s *Store) (int, error) {
	if err := s.db.View(func(btx *bolt.Tx) error {
		for err := range btx.Check() {
			return err
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("bbolt consistency check: %w", err)
	}
	last := 0
	if v, err := s.GetSetting(crashLastBatch); err == nil {
		if last, err = strconv.Atoi(v); err != nil {
			return 0, fmt.Errorf("last_batch %q: %w", v, err)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	hosts, err := s.ListHosts()
	if err != nil {
		return 0, err
	}
	caches, err := s.ListHostCaches()
	if err != nil {
		return 0, err
	}
	events, err := s.ListEvents(EventService, crashSubject)
	if err != nil {
		return 0, err
	}
	if last == 0 {
		if len(hosts)+len(caches)+len(events) != 0 {
			return 0, fmt.Errorf("no batch committed but %d hosts, %d caches, %d events present", len(hosts), len(caches), len(events))
		}
		return 0, nil
	}
	if len(hosts) != crashSlots || len(caches) != crashSlots {
		return 0, fmt.Errorf("batch %d: %d hosts and %d caches, want %d of each", last, len(hosts), len(caches), crashSlots)
	}
	for i, h := range hosts {
		if h.Name != crashSlotName(i) || h.Location["batch"] != strconv.Itoa(last) {
			return 0, fmt.Errorf("host %s carries batch %s, want %d: partial batch", h.Name, h.Location["batch"], last)
		}
	}
	for i, c := range caches {
		var p crashPayload
		if err := json.Unmarshal(c.Daemons.Data, &p); err != nil {
			return 0, fmt.Errorf("cache %s: torn record: %w", c.Host, err)
		}
		if p.Batch != last || p.Slot != i || p.Sum != crashSum(p.Batch, p.Slot, p.Pad) {
			return 0, fmt.Errorf("cache %s: batch %d slot %d checksum ok=%v, want batch %d slot %d: partial or torn record",
				c.Host, p.Batch, p.Slot, p.Sum == crashSum(p.Batch, p.Slot, p.Pad), last, i)
		}
	}
	if n := len(events); n == 0 || events[n-1].Message != "batch "+strconv.Itoa(last) {
		return 0, fmt.Errorf("last event %v, want batch %d", events, last)
	}
	return last, nil
}

// TestCrashCheckDetectsPartialBatch shows checkCrashStore is not vacuous: it
// accepts a complete batch and rejects each kind of partial one.
func TestCrashCheckDetectsPartialBatch(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(tx *Tx) error
		wantErr string
	}{
		{"complete batch", func(*Tx) error { return nil }, ""},
		{"one host from the next batch", func(tx *Tx) error {
			return tx.PutHost(Host{Name: crashSlotName(5), Location: map[string]string{"batch": "2"}})
		}, "partial batch"},
		{"one cache from the next batch", func(tx *Tx) error {
			raw, _ := json.Marshal(crashPayload{Batch: 2, Slot: 7, Pad: "x", Sum: crashSum(2, 7, "x")})
			return tx.UpdateHostCache(crashSlotName(7), CacheDaemons, raw, time.Time{})
		}, "partial or torn"},
		{"bad checksum", func(tx *Tx) error {
			raw, _ := json.Marshal(crashPayload{Batch: 1, Slot: 9, Pad: "x", Sum: crashSum(1, 9, "y")})
			return tx.UpdateHostCache(crashSlotName(9), CacheDaemons, raw, time.Time{})
		}, "partial or torn"},
		{"marker ahead of records", func(tx *Tx) error { return tx.SetSetting(crashLastBatch, "2") }, "partial batch"},
		{"missing slot", func(tx *Tx) error { return tx.DeleteHost(crashSlotName(63)) }, "want 64 of each"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{})
			if err := s.Update(func(tx *Tx) error { return writeCrashBatch(tx, 1) }); err != nil {
				t.Fatal(err)
			}
			if err := s.Update(tt.damage); err != nil {
				t.Fatal(err)
			}
			_, err := checkCrashStore(s)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("complete batch rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("checkCrashStore = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestCrashMidBatch starts a child that writes large multi-record batches in
// a loop and SIGKILLs it at varying moments, several times over the same
// file. After each kill the reopened store must hold a complete batch, at
// least as new as the last one the child reported committed and no newer
// than the last one it began.
func TestCrashMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills processes")
	}
	path := t.TempDir() + "/orch.db"
	// (batches to let begin before the kill, delay after that "begin" line)
	moments := []struct {
		afterBegins int
		delay       time.Duration
	}{
		{1, 0}, {2, 100 * time.Microsecond}, {1, 300 * time.Microsecond}, {3, 700 * time.Microsecond},
		{2, time.Millisecond}, {1, 1500 * time.Microsecond}, {4, 2 * time.Millisecond}, {2, 3 * time.Millisecond},
		{1, 5 * time.Millisecond}, {3, 11 * time.Millisecond}, {1, 23 * time.Millisecond},
	}
	killedMidBatch := 0
	prev := 0
	for round, m := range moments {
		cmd, _, lines := startHelper(t, "writer", path)
		begun, committed, begins := 0, prev, 0
		for begins < m.afterBegins {
			l, ok := <-lines
			if !ok {
				t.Fatalf("round %d: writer exited early: %v", round, cmd.Wait())
			}
			if n, ok := strings.CutPrefix(l, "begin "); ok {
				begun, _ = strconv.Atoi(n)
				begins++
			} else if n, ok := strings.CutPrefix(l, "committed "); ok {
				committed, _ = strconv.Atoi(n)
			}
		}
		time.Sleep(m.delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		for l := range lines { // lines written before the kill
			if n, ok := strings.CutPrefix(l, "begin "); ok {
				begun, _ = strconv.Atoi(n)
			} else if n, ok := strings.CutPrefix(l, "committed "); ok {
				committed, _ = strconv.Atoi(n)
			}
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: writer was not killed by SIGKILL: %v", round, cmd.ProcessState)
		}

		got := verifyCrashStore(t, path)
		if got < committed || got > begun {
			t.Fatalf("round %d: store holds batch %d; writer had committed %d and begun %d", round, got, committed, begun)
		}
		if got < begun {
			killedMidBatch++
		}
		t.Logf("round %d: killed %v after begin of batch %d; committed %d; store holds %d", round, m.delay, begun, committed, got)
		prev = got
	}
	if killedMidBatch == 0 {
		t.Errorf("no kill landed inside a batch; the test proved nothing about partial writes")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode after crashes: %v %v", fi, err)
	}
}
