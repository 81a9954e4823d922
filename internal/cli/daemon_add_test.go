package cli

import (
	"strings"
	"testing"
)

func TestParseOSDTarget(t *testing.T) {
	tests := []struct {
		in      string
		host    string
		devices string
		bad     bool
	}{
		{in: "h1:/dev/sdb", host: "h1", devices: "/dev/sdb"},
		{in: "h1:/dev/sdb,/dev/sdc", host: "h1", devices: "/dev/sdb,/dev/sdc"},
		{in: "h1:data_devices=/dev/loop2", host: "h1", devices: "/dev/loop2"},
		{in: "h1", bad: true},
		{in: ":/dev/sdb", bad: true},
		{in: "h1:", bad: true},
		{in: "h1:sdb", bad: true},
		{in: "h1:/dev/sdb,db_devices=/dev/nvme0n1", bad: true},
	}
	for _, tt := range tests {
		host, devs, err := parseOSDTarget(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseOSDTarget(%q) = %q %v, want an error", tt.in, host, devs)
			}
			continue
		}
		if err != nil || host != tt.host || strings.Join(devs, ",") != tt.devices {
			t.Errorf("parseOSDTarget(%q) = %q %v %v", tt.in, host, devs, err)
		}
	}
}
