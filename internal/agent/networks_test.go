package agent

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestListNetworks(t *testing.T) {
	r := newFakeRunner(t).
		on(readTestdata(t, "net/route4.txt"), nil, "ip", "route", "ls").
		on(readTestdata(t, "net/route6.txt"), nil, "ip", "-6", "route", "ls").
		on(readTestdata(t, "net/addr6.txt"), nil, "ip", "-6", "addr", "ls")
	h := fixtureHost(t, r, "ip")
	got, err := h.ListNetworks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Networks{
		// Two source addresses on one subnet are both kept, sorted.
		"10.0.0.0/24": {"eth0": {"10.0.0.2", "10.0.0.3"}},
		// A bare address is a /32.
		"10.4.0.1/32": {"tun0": {"10.4.0.2"}},
		// Routes through a gateway still count when the kernel says scope link + src.
		"172.17.0.0/16":    {"eth1": {"172.17.0.5"}},
		"192.168.122.0/24": {"virbr0": {"192.168.122.1"}},
		// IPv6: an address on an interface the route is not on is not
		// recorded (2001:db8:1::99 on ens20f0); @ suffixes are dropped.
		"2001:db8:1::/64": {"eth0": {"2001:db8:1::10", "2001:db8:1::11"}},
		"2001:db8:2::/64": {"ens20f0": {"2001:db8:2::20"}},
		"fe80::/64":       {"eth0": {"fe80::1:2:3:4"}, "ens20f0": {"fe80::9"}},
		// A route without an address on the host keeps an empty list.
		"fd00::5/128": {"vxlan0": {}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListNetworks =\n%v\nwant\n%v", got, want)
	}
}

func TestListNetworksWithoutIP(t *testing.T) {
	h := fixtureHost(t, newFakeRunner(t))
	if _, err := h.ListNetworks(context.Background()); !errors.Is(err, ErrToolMissing) {
		t.Fatalf("err = %v, want ErrToolMissing", err)
	}
}

func FuzzParseRoutes(f *testing.F) {
	f.Add("10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2", "fd00::/64 dev eth0 proto kernel metric 256 pref medium", "2: eth0: <UP>\n    inet6 fd00::2/64 scope global")
	f.Fuzz(func(t *testing.T, v4, v6, addrs string) {
		for subnet, ifaces := range ParseIPv4Routes(v4) {
			if subnet == "" || len(ifaces) == 0 {
				t.Fatalf("empty entry for %q", subnet)
			}
		}
		_ = ParseIPv6Routes(v6, addrs)
	})
}
