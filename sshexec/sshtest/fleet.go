package sshtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// A fleet is many Servers in a child process (the test binary, re-executed)
// so that a benchmark measures the client's memory and CPU alone. The
// child prints "addr authorized-host-key" per server and serves until its
// stdin closes.
const (
	fleetEnvN   = "ORCH_SSHTEST_FLEET_N"
	fleetEnvKey = "ORCH_SSHTEST_FLEET_CLIENT_KEY"
)

// FleetHost is one server of a fleet.
type FleetHost struct {
	Addr    string // IP
	Port    int
	HostKey string // authorized_keys form, to pin
}

// FleetServer returns the options of the i-th server; AuthorizedKeys is
// filled in by the fleet. scratch is a directory the fleet removes at exit
// (for SFTPDir).
type FleetServer func(i int, scratch string) Options

// ServeFleetIfChild must be called first in TestMain: in a process that
// StartFleet started it runs the fleet and exits; otherwise it returns.
func ServeFleetIfChild(server FleetServer) {
	nStr := os.Getenv(fleetEnvN)
	if nStr == "" {
		return
	}
	os.Exit(serveFleet(nStr, os.Getenv(fleetEnvKey), server))
}

func serveFleet(nStr, clientKey string, server FleetServer) int {
	RaiseNofile()
	n, err := strconv.Atoi(nStr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(clientKey))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	scratch, err := os.MkdirTemp("", "orch-sshtest-fleet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(scratch)
	servers := make([]*Server, 0, n)
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	out := bufio.NewWriter(os.Stdout)
	for i := range n {
		o := server(i, scratch)
		o.AuthorizedKeys = []ssh.PublicKey{pub}
		s, err := New(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		servers = append(servers, s)
		fmt.Fprintf(out, "%s %s\n", s.Addr(), s.AuthorizedHostKey())
	}
	out.Flush()
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// StartFleet re-executes the test binary (whose TestMain calls
// ServeFleetIfChild) to run n servers that accept clientKey, and returns
// them with the child's pid. env is added to the child's environment. The
// child stops when tb's cleanup runs.
func StartFleet(tb testing.TB, n int, clientKey ssh.PublicKey, env ...string) ([]FleetHost, int) {
	tb.Helper()
	RaiseNofile()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), fleetEnvN+"="+strconv.Itoa(n),
		fleetEnvKey+"="+string(ssh.MarshalAuthorizedKey(clientKey)))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	hosts := make([]FleetHost, 0, n)
	for i := 0; i < n && sc.Scan(); i++ {
		addr, hk, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			tb.Fatalf("fleet line %q", sc.Text())
		}
		host, port, _ := strings.Cut(addr, ":")
		p, _ := strconv.Atoi(port)
		hosts = append(hosts, FleetHost{Addr: host, Port: p, HostKey: hk})
	}
	if len(hosts) != n {
		tb.Fatalf("fleet started %d of %d servers: %v", len(hosts), n, sc.Err())
	}
	return hosts, cmd.Process.Pid
}

// RaiseNofile lifts the open-file soft limit to the hard limit (a fleet of
// 1,000 servers and their clients needs several thousand descriptors).
func RaiseNofile() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}
