package agent

import (
	"errors"
	"net"
	"testing"
)

func TestTCPPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if busy, err := tcpPortInUse("", port); err != nil || !busy {
		t.Errorf("held port: busy=%v err=%v", busy, err)
	}
	if busy, err := tcpPortInUse("127.0.0.1", port); err != nil || !busy {
		t.Errorf("held port on its address: busy=%v err=%v", busy, err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if busy, err := tcpPortInUse("", port); err != nil || busy {
		t.Errorf("released port: busy=%v err=%v", busy, err)
	}
	if _, err := tcpPortInUse("192.0.2.1", port); err == nil {
		t.Error("a non-local address should be an error, not free")
	}
}

func TestCheckPorts(t *testing.T) {
	var asked []string
	check := func(ip string, port int) (bool, error) {
		asked = append(asked, ip)
		return port == 9283 || port == 8443, nil
	}
	err := checkPorts(check, "mgr", []int{9283, 8765, 8443}, map[string]string{"8765": "10.0.0.5"})
	var pe *PortError
	if !errors.As(err, &pe) || !errors.Is(err, ErrPortInUse) {
		t.Fatalf("err = %v", err)
	}
	if pe.Error() != "TCP Port(s) '9283,8765,8443' required for mgr already in use" || len(pe.Busy) != 2 || pe.Busy[0] != 8443 {
		t.Errorf("%q busy=%v", pe.Error(), pe.Busy)
	}
	if asked[1] != "10.0.0.5" || asked[0] != "" {
		t.Errorf("port_ips not used: %q", asked)
	}
	if err := checkPorts(check, "mgr", nil, nil); err != nil {
		t.Error(err)
	}
	boom := errors.New("boom")
	if err := checkPorts(func(string, int) (bool, error) { return false, boom }, "x", []int{1}, nil); !errors.Is(err, boom) {
		t.Errorf("checker error lost: %v", err)
	}
}
