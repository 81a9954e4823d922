package sshexec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const sampleConfig = `
# cluster defaults
StrictHostKeyChecking yes
UserKnownHostsFile /dev/null

Host web-* !web-03
  User ops
  Port 2222
  ProxyJump jump@bastion.example:2200

Host *.lab "node ?"
  HostName %h.internal
  IdentityFile ~/.ssh/id_a
  ConnectTimeout=7

Host *
  User root
  IdentityFile "/keys/with space"
  Port 22
`

func TestSSHConfigResolve(t *testing.T) {
	cfg, err := ParseSSHConfig(sampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want HostSettings
	}{
		{"web-01", HostSettings{User: "ops", Port: 2222, ProxyJump: "jump@bastion.example:2200",
			IdentityFiles: []string{"/keys/with space"}, StrictHostKeyChecking: "yes"}},
		{"web-03", HostSettings{User: "root", Port: 22, IdentityFiles: []string{"/keys/with space"}, StrictHostKeyChecking: "yes"}},
		{"a.LAB", HostSettings{HostName: "a.LAB.internal", User: "root", Port: 22, ConnectTimeout: 7 * time.Second,
			IdentityFiles: []string{"~/.ssh/id_a", "/keys/with space"}, StrictHostKeyChecking: "yes"}},
		{"node 1", HostSettings{HostName: "node 1.internal", User: "root", Port: 22, ConnectTimeout: 7 * time.Second,
			IdentityFiles: []string{"~/.ssh/id_a", "/keys/with space"}, StrictHostKeyChecking: "yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := cfg.Resolve(tt.host); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Resolve(%q) =\n %+v\nwant\n %+v", tt.host, got, tt.want)
			}
		})
	}
	if u := cfg.Unsupported(); len(u) != 1 || u[0] != "line 4: userknownhostsfile" {
		t.Fatalf("Unsupported = %q", u)
	}
	tg, err := cfg.Resolve("web-01").Apply(Target{Name: "web-01", KnownHostsFile: "/etc/orch/known_hosts"})
	if err != nil {
		t.Fatal(err)
	}
	if tg.User != "ops" || tg.Port != 2222 || tg.ProxyJump == nil ||
		*tg.ProxyJump != (Jump{User: "jump", Addr: "bastion.example", Port: 2200, KnownHostsFile: "/etc/orch/known_hosts"}) {
		t.Fatalf("Apply: %+v %+v", tg, tg.ProxyJump)
	}
}

func TestSSHConfigValidate(t *testing.T) {
	tests := []struct {
		name, text, wantMsg string
	}{
		{"missing", "Host *\n  User root\n", "StrictHostKeyChecking is not set"},
		{"ask", "StrictHostKeyChecking ask\n", "cannot ask"},
		{"no", "Host *\n StrictHostKeyChecking no\n", "never disables host key checking"},
		{"off", "StrictHostKeyChecking=off\n", "never disables host key checking"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseSSHConfig(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if !errors.Is(err, ErrInvalidTarget) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantMsg)
			}
		})
	}
	for _, ok := range []string{"StrictHostKeyChecking yes\n", "StrictHostKeyChecking accept-new\n"} {
		cfg, err := ParseSSHConfig(ok)
		if err != nil || cfg.Validate() != nil {
			t.Fatalf("%q refused: %v", ok, err)
		}
	}
}

func TestSSHConfigParseErrors(t *testing.T) {
	for _, text := range []string{
		"Port 0\n", "Port x\n", "Port 1 2\n", "ConnectTimeout -1\n", "StrictHostKeyChecking maybe\n",
		"ProxyJump a,b\n", "Host\n", "Match host x\n", "Include other\n", `User "unterminated` + "\n",
		"User a;b\n", "HostName\n",
	} {
		if _, err := ParseSSHConfig(text); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("ParseSSHConfig(%q) error = %v, want ErrInvalidTarget", text, err)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"*.lab", "x.lab", true}, {"*.lab", "x.labs", false}, {"a*b*c", "aXbYbZc", true},
	} {
		if got := globMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

// FuzzParseSSHConfig: parsing never panics; a parsed config renders to
// text that parses back to the same blocks and options, and resolving or
// validating it never panics.
func FuzzParseSSHConfig(f *testing.F) {
	f.Add(sampleConfig)
	f.Add("Host a b !c\n User x\n Port=22\n ProxyJump u@h:1\n")
	f.Add(`IdentityFile "a\"b\\c" # comment` + "\n")
	f.Add("StrictHostKeyChecking no\nHost *\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := ParseSSHConfig(text)
		if err != nil {
			if !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("error without ErrInvalidTarget: %v", err)
			}
			return
		}
		_ = cfg.Validate()
		s := cfg.Resolve("host-1.example")
		if s.Port < 0 || s.Port > 65535 || s.ConnectTimeout < 0 {
			t.Fatalf("resolved out-of-range values: %+v", s)
		}
		again, err := ParseSSHConfig(cfg.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", cfg.String(), err)
		}
		strip := func(c *SSHConfig) []HostBlock {
			var out []HostBlock
			for _, b := range c.Blocks {
				nb := HostBlock{Patterns: b.Patterns}
				for _, o := range b.Options {
					nb.Options = append(nb.Options, ConfigOption{Key: o.Key, Value: o.Value})
				}
				out = append(out, nb)
			}
			return out
		}
		if !reflect.DeepEqual(strip(cfg), strip(again)) {
			t.Fatalf("round trip differs:\n%#v\n%#v\ntext %q", strip(cfg), strip(again), cfg.String())
		}
	})
}
