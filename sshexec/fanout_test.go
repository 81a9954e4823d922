package sshexec

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchceph/orch/sshexec/sshtest"
)

func TestFanOutDeadHostsAreResults(t *testing.T) {
	key := newSigner(t)
	p := newPool(t, Options{})
	var hosts []string
	for i := range 8 {
		srv := startServer(t, key, sshtest.Options{Handler: okHandler})
		name := fmt.Sprintf("h%d", i)
		tg := targetFor(name, srv, key)
		switch i {
		case 2:
			srv.Close() // refused
		case 5:
			srv.Freeze() // hangs
			tg.ConnectTimeout = 300 * time.Millisecond
		}
		mustAdd(t, p, tg)
		hosts = append(hosts, name)
	}
	hosts = append(hosts, "not-added")
	res := p.RunAll(testCtx(t), hosts, 3, []string{"true"}, RunOptions{})
	if len(res) != len(hosts) {
		t.Fatalf("%d results for %d hosts", len(res), len(hosts))
	}
	for i, r := range res {
		if r.Host != hosts[i] {
			t.Fatalf("result %d is %s, want %s (input order)", i, r.Host, hosts[i])
		}
		switch r.Host {
		case "h2", "h5":
			if !errors.Is(r.Err, ErrUnreachable) {
				t.Errorf("%s: err = %v, want ErrUnreachable", r.Host, r.Err)
			}
		case "not-added":
			if !errors.Is(r.Err, ErrUnknownHost) {
				t.Errorf("%s: err = %v, want ErrUnknownHost", r.Host, r.Err)
			}
		default:
			if r.Err != nil || string(r.Value.Stdout) != "ok\n" {
				t.Errorf("%s: %q %v", r.Host, r.Value.Stdout, r.Err)
			}
		}
	}
	if err := Errors(res); !errors.Is(err, ErrUnreachable) || !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("joined errors: %v", err)
	}
}

func TestFanOutLimitAndCancel(t *testing.T) {
	var cur, peak atomic.Int32
	hosts := make([]string, 100)
	for i := range hosts {
		hosts[i] = fmt.Sprint(i)
	}
	res := FanOut(context.Background(), hosts, 7, func(ctx context.Context, h string) (string, error) {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		if h == "13" {
			return "", errors.New("boom")
		}
		return "v" + h, nil
	})
	if p := peak.Load(); p > 7 {
		t.Fatalf("peak concurrency %d > 7", p)
	}
	for i, r := range res {
		if r.Host != hosts[i] || (i != 13 && (r.Err != nil || r.Value != "v"+hosts[i])) || (i == 13 && r.Err == nil) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls atomic.Int32
	res2 := FanOut(ctx, hosts[:5], 0, func(ctx context.Context, h string) (int, error) { calls.Add(1); return 0, nil })
	for _, r := range res2 {
		if !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("%s: %v, want context.Canceled", r.Host, r.Err)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("fn called %d times after cancel", calls.Load())
	}
}
