//go:build integration

package sshexec_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/orchceph/orch/hostlab"
	"github.com/orchceph/orch/sshexec"
)

// BenchmarkFanOutLab30 fans one command out to 30 real OpenSSH lab hosts,
// cold (a new pool: TCP + handshake + exec per host) and warm (exec over
// the pool's connections). Run it with:
//
//	go test -tags integration -run '^$' -bench FanOutLab30 -benchtime 10x ./sshexec/
func BenchmarkFanOutLab30(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("lab hosts need root")
	}
	lab := hostlab.ForTest(b, 30, hostlab.Options{})
	signer, err := lab.AdminSigner()
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	targets := map[string]sshexec.Target{}
	for _, h := range lab.Hosts() {
		names = append(names, h.Name)
		targets[h.Name] = sshexec.Target{Name: h.Name, Addr: h.Addr, Port: h.Port, Signer: signer, KnownHostsFile: lab.KnownHostsPath()}
	}
	newPool := func(b *testing.B) *sshexec.Pool {
		p := sshexec.New(sshexec.Options{ConnectTimeout: 10 * time.Second})
		for _, n := range names {
			t := targets[n]
			if err := p.Add(t); err != nil {
				b.Fatal(err)
			}
		}
		return p
	}
	argv := []string{"true"}
	run := func(b *testing.B, p *sshexec.Pool) {
		res := p.RunAll(context.Background(), names, sshexec.DefaultFanOutLimit, argv, sshexec.RunOptions{Timeout: 30 * time.Second})
		if err := sshexec.Errors(res); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p := newPool(b)
			run(b, p)
			b.StopTimer()
			p.Close()
			b.StartTimer()
		}
	})
	b.Run("warm", func(b *testing.B) {
		p := newPool(b)
		defer p.Close()
		run(b, p)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			run(b, p)
		}
	})
}
