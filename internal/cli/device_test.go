package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/inventory"
	"github.com/orchceph/orch/sshexec/sshtest"
	"golang.org/x/crypto/ssh"
)

func TestFormatDimless(t *testing.T) {
	for n, want := range map[float64]string{
		0: "   0 ", 999: " 999 ", 9999: "9999 ", 10000: "10.0k", 1073741824: "1073M", 6442450944: "6442M", 10737418240: "10.7G",
		21474836480: "21.4G", 100.5e9: " 100G", 4000781611008: "4000G", 10e12: "10.0T", 274877906944: " 274G",
	} {
		if got := formatDimless(n, 5); got != want {
			t.Errorf("formatDimless(%v) = %q, want %q", n, got, want)
		}
	}
}

func TestPrettyDelta(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 119 * time.Second: "119s", 2 * time.Minute: "2m", 119 * time.Minute: "119m", 2 * time.Hour: "2h",
		47 * time.Hour: "47h", 48 * time.Hour: "2d", 14 * 24 * time.Hour: "2w", 84 * 24 * time.Hour: "2M", 800 * 24 * time.Hour: "2y",
	} {
		if got := prettyDelta(d); got != want {
			t.Errorf("prettyDelta(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDeviceTable(t *testing.T) {
	var inv []inventory.InventoryHost
	if err := json.Unmarshal([]byte(`[
	 {"name":"h2","addr":"10.0.0.2","devices":[
	  {"path":"/dev/sdb","sys_api":{"rotational":"0","size":1000204886016.0},"available":false,"rejected_reasons":["locked","LVM detected"],
	   "device_id":"SAMSUNG_1","lsm_data":{"transport":"SATA","rpm":"Non-Rotating Medium","health":"Good","ledSupport":{"IDENTsupport":"Supported","IDENTstatus":"Off","FAILsupport":"Unsupported","FAILstatus":"Unsupported"}},"created":"2026-11-21T05:58:00.000000Z"}]},
	 {"name":"h1","devices":[
	  {"path":"/dev/vdc","sys_api":{"rotational":"1","size":10737418240},"available":true,"rejected_reasons":[],"device_id":"","lsm_data":{},"created":"2026-11-21T05:59:30.000000Z"},
	  {"path":"/dev/loop9","sys_api":{},"available":false,"rejected_reasons":["Insufficient space (<5GB)"],"lsm_data":{}}]}
	]`), &inv); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := writeDeviceTable(&b, inv, false, now); err != nil {
		t.Fatal(err)
	}
	want := `HOST  PATH        TYPE     DEVICE ID   SIZE  AVAILABLE  REFRESHED  REJECT REASONS
h1    /dev/loop9  unknown                0              -          Insufficient space (<5GB)
h1    /dev/vdc    hdd                 10.7G  Yes        30s ago
h2    /dev/sdb    ssd      SAMSUNG_1  1000G             2m ago     LVM detected, locked
`
	if b.String() != want {
		t.Errorf("plain table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := writeDeviceTable(&b, inv, true, now); err != nil {
		t.Fatal(err)
	}
	want = `HOST  PATH        TYPE     TRANSPORT  RPM                  DEVICE ID   SIZE  HEALTH  IDENT  FAULT  AVAILABLE  REFRESHED  REJECT REASONS
h1    /dev/loop9  unknown                                                0           N/A    N/A               -          Insufficient space (<5GB)
h1    /dev/vdc    hdd                                                 10.7G          N/A    N/A    Yes        30s ago
h2    /dev/sdb    ssd      SATA       Non-Rotating Medium  SAMSUNG_1  1000G  Good    Off    N/A               2m ago     LVM detected, locked
`
	if b.String() != want {
		t.Errorf("wide table:\n%s\nwant:\n%s", b.String(), want)
	}
}

// cliAgentHost is an in-process SSH server answering the agent's
// subcommands with small canned JSON, for CLI tests against `orch serve`.
type cliAgentHost struct {
	srv  *sshtest.Server
	name string
}

func startCLIAgentHost(t *testing.T, name string, authorized ssh.PublicKey) *cliAgentHost {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	hk, _ := ssh.NewSignerFromKey(priv)
	h := &cliAgentHost{name: name}
	devs, _ := json.Marshal([]agent.Device{
		{Path: "/dev/loop0", Available: true, RejectedReasons: []string{}, LVs: []agent.LV{}, LSMData: json.RawMessage(`{}`),
			SysAPI: agent.SysAPI{Path: "/dev/loop0", Size: 10737418240, Rotational: "1", HumanReadableSize: "10.00 GB", Type: "loop"}},
		{Path: "/dev/loop1", Available: false, RejectedReasons: []string{"Has a FileSystem"}, LVs: []agent.LV{}, LSMData: json.RawMessage(`{}`),
			SysAPI: agent.SysAPI{Path: "/dev/loop1", Size: 6442450944, Rotational: "1", HumanReadableSize: "6.00 GB", Type: "loop"}},
	})
	facts, _ := json.Marshal(agent.Facts{Hostname: name, Vendor: "QEMU", Model: "Standard PC", CPUCores: 2, CPUCount: 1, CPUThreads: 1,
		MemoryTotalKB: 4 << 20, HDDCount: 2, HDDCapacity: "16.1GB", FlashCapacity: "0.0B", NICCount: 1, OperatingSystem: "Debian GNU/Linux 12 (bookworm)"})
	srv, err := sshtest.New(sshtest.Options{
		HostKey: hk, AuthorizedKeys: []ssh.PublicKey{authorized}, SFTPDir: t.TempDir(),
		Handler: func(ctx context.Context, e sshtest.Exec) int {
			f := strings.Fields(e.Command)
			sub, rest := "", []string(nil)
			for i, w := range f {
				if w == "agent" && i+1 < len(f) {
					sub, rest = f[i+1], f[i+2:]
					break
				}
			}
			switch sub {
			case "":
				if strings.HasSuffix(strings.TrimSpace(e.Command), "true") {
					return 0 // a connection probe
				}
				fmt.Fprintf(e.Stderr, "unexpected %q\n", e.Command)
				return 127
			case "check-host":
				fmt.Fprintf(e.Stdout, `{"ok":true,"hostname":%q,"errors":[]}`, name)
			case "gather-facts":
				e.Stdout.Write(facts)
			case "list-networks":
				fmt.Fprint(e.Stdout, `{"10.0.0.0/24":{"eth0":["10.0.0.1"]}}`)
			case "inventory":
				e.Stdout.Write(devs)
			case "ls":
				fmt.Fprint(e.Stdout, `[]`)
			case "light":
				if strings.Contains(strings.Join(rest, " "), "loop") {
					fmt.Fprintf(e.Stderr, "Error ENOTSUP: %s: LED control is not supported for this device (no enclosure or LED-capable controller; ledctl says: exit status 33)\n", rest[len(rest)-1])
					return 95
				}
				fmt.Fprint(e.Stdout, `{}`)
			case "disk-rescan":
				fmt.Fprint(e.Stdout, `{"message":"Ok. 1 adapters detected: 1 rescanned, 0 skipped, 0 failed (0.00s)"}`)
			default:
				fmt.Fprintf(e.Stderr, "Error EINVAL: unexpected %q\n", e.Command)
				return 22
			}
			return 0
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	t.Cleanup(func() { srv.Close() })
	return h
}

func TestDeviceAndHostDetailCommands(t *testing.T) {
	sock := startController(t)
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, sock, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	mustRun("ssh", "generate-key")
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(mustRun("ssh", "get-pub-key")))
	if err != nil {
		t.Fatal(err)
	}
	hosts := []*cliAgentHost{startCLIAgentHost(t, "h1", pub), startCLIAgentHost(t, "h2", pub)}
	var cfg strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&cfg, "Host %s\n  Port %d\n  StrictHostKeyChecking yes\n", h.name, h.srv.Port())
	}
	cfgFile := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun("ssh", "set-ssh-config", "-i", cfgFile)
	for _, h := range hosts {
		mustRun("host", "add", h.name, "127.0.0.1")
	}

	// --refresh answers at once from the cache; the refresh runs behind.
	mustRun("device", "ls", "--refresh")
	deadline := time.Now().Add(20 * time.Second)
	for {
		var inv []inventory.InventoryHost
		out := mustRun("device", "ls", "--format", "json")
		if err := json.Unmarshal([]byte(out), &inv); err != nil {
			t.Fatalf("device ls json: %v\n%s", err, out)
		}
		if len(inv) == 2 && len(inv[0].Devices) == 2 && len(inv[1].Devices) == 2 {
			if !strings.HasPrefix(out, `[{"addr":"127.0.0.1","devices":[{"available":true,`) {
				t.Errorf("device ls json keys are not sorted: %.80s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("devices never showed up: %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := mustRun("device", "ls")
	row := regexp.MustCompile(`^h[12]    /dev/loop[01]  hdd {14}(10\.7G  Yes {8}\d+s ago|6442M {13}\d+s ago +Has a FileSystem)$`)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 || lines[0] != "HOST  PATH        TYPE  DEVICE ID   SIZE  AVAILABLE  REFRESHED  REJECT REASONS" {
		t.Fatalf("device ls:\n%s", out)
	}
	for _, l := range lines[1:] {
		if !row.MatchString(l) {
			t.Errorf("device ls row %q", l)
		}
	}
	if out := mustRun("device", "ls", "h2", "--wide"); !strings.HasPrefix(out, "HOST  PATH        TYPE  TRANSPORT  RPM  DEVICE ID   SIZE  HEALTH  IDENT  FAULT  AVAILABLE  REFRESHED  REJECT REASONS\nh2 ") || strings.Contains(out, "h1") {
		t.Errorf("device ls h2 --wide:\n%s", out)
	}
	if out := mustRun("device", "ls", "--format", "yaml", "h1"); !strings.Contains(out, "size: 10737418240\n") || !strings.HasPrefix(out, "addr: 127.0.0.1\n") {
		t.Errorf("device ls yaml:\n%s", out)
	}

	// host ls --detail and host facts (facts were gathered by the refresh).
	out = mustRun("host", "ls", "--detail")
	want := "HOST  ADDR       LABELS  STATUS  VENDOR/MODEL      CPU    RAM    HDD       SSD  NIC\n" +
		"h1    127.0.0.1                  QEMU Standard PC  2C/2T  4 GiB  2/16.1GB  -    1\n" +
		"h2    127.0.0.1                  QEMU Standard PC  2C/2T  4 GiB  2/16.1GB  -    1\n" +
		"2 hosts in cluster\n"
	if out != want {
		t.Errorf("host ls --detail:\n%q\nwant\n%q", out, want)
	}
	var details []map[string]any
	if err := json.Unmarshal([]byte(mustRun("host", "ls", "--detail", "--format", "json", "--host-pattern", "h2")), &details); err != nil || len(details) != 1 ||
		details[0]["hostname"] != "h2" || details[0]["cpu_summary"] != "2C/2T" || details[0]["service_type"] != "host" || details[0]["nic_count"] != float64(1) {
		t.Errorf("host ls --detail json = %v, %v", details, err)
	}
	var facts map[string]any
	if err := json.Unmarshal([]byte(mustRun("host", "facts", "h1")), &facts); err != nil || facts["hostname"] != "h1" || facts["memory_total_kb"] != float64(4<<20) {
		t.Errorf("host facts = %v, %v", facts, err)
	}
	if code, _, errOut := run(t, sock, "host", "facts", "nosuch"); code != 2 || !strings.HasPrefix(errOut, "Error ENOENT: host nosuch not found") {
		t.Errorf("host facts nosuch = %d %q", code, errOut)
	}

	// LEDs and rescans are synchronous.
	if out := mustRun("device", "light", "on", "h1", "/dev/sda", "fault"); out != "Set fault light for h1:/dev/sda on\n" {
		t.Errorf("device light = %q", out)
	}
	code, out, errOut := run(t, sock, "device", "light", "on", "h1", "/dev/loop0")
	if code != 95 || out != "" || !strings.HasPrefix(errOut, "Error ENOTSUP: Unable to affect ident light for h1:/dev/loop0: /dev/loop0: LED control is not supported") {
		t.Errorf("device light on a loop device = %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{{"device", "light", "blink", "h1", "/dev/sda"}, {"device", "light", "on", "h1", "/dev/sda", "red"}, {"device", "light", "on", "h1", "$(reboot)"}} {
		if code, _, errOut := run(t, sock, args...); code != 22 || !strings.HasPrefix(errOut, "Error EINVAL: ") {
			t.Errorf("%v = %d %q", args, code, errOut)
		}
	}
	if out := mustRun("host", "rescan", "h2"); out != "Ok\n" {
		t.Errorf("host rescan = %q", out)
	}
	if out := mustRun("host", "rescan", "h2", "--with-summary"); out != "Ok. 1 adapters detected: 1 rescanned, 0 skipped, 0 failed (0.00s)\n" {
		t.Errorf("host rescan --with-summary = %q", out)
	}

	// POST /refresh returns at once.
	c, err := api.NewClient(api.ClientOptions{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Refresh(context.Background(), api.RefreshRequest{Hosts: []string{"h1"}, Kinds: []string{"facts"}})
	if err != nil || m.Message != "Scheduled refresh of 1 host(s)" {
		t.Errorf("POST /refresh = %+v, %v", m, err)
	}
	if _, err := c.Refresh(context.Background(), api.RefreshRequest{Hosts: []string{"nosuch"}}); err == nil {
		t.Error("POST /refresh of an unknown host succeeded")
	}
}
