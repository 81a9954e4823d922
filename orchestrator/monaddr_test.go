package orchestrator

import (
	"testing"

	"github.com/orchceph/orch/scheduler"
)

func TestMonAddr(t *testing.T) {
	nets := scheduler.HostNetworks{
		"10.0.0.0/24":    {"eth0": {"10.0.0.5"}},
		"192.168.7.0/24": {"eth1": {"192.168.7.20"}, "eth2": {"192.168.7.9"}},
		"127.0.0.0/8":    {"lo": {"127.0.0.1"}},
		"fd00::/64":      {"eth1": {"fd00::20"}},
	}
	tests := []struct {
		name, addr, public, want string
	}{
		{"no public network: the host address", "10.0.0.5", "", "10.0.0.5"},
		{"host address in the public network", "10.0.0.5", "10.0.0.0/24", "10.0.0.5"},
		{"another network: its address", "10.0.0.5", "192.168.7.0/24", "192.168.7.20"},
		{"one of several public networks", "10.0.0.5", "172.16.0.0/16, 192.168.0.0/16", "192.168.7.20"},
		{"IPv6 public network", "10.0.0.5", "fd00::/64", "fd00::20"},
		{"host name, public network known", "h1.example", "10.0.0.0/24", "10.0.0.5"},
		{"host name, no public network", "h1.example", "", ""},
		{"no address in the public network: the host address", "10.0.0.5", "172.16.0.0/16", "10.0.0.5"},
		{"unparsable public network is ignored", "10.0.0.5", "bogus", "10.0.0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monAddr(tt.addr, nets, tt.public); got != tt.want {
				t.Errorf("monAddr(%q, %q) = %q, want %q", tt.addr, tt.public, got, tt.want)
			}
		})
	}
}
