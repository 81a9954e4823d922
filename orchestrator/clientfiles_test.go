package orchestrator

import (
	"slices"
	"strings"
	"testing"

	"github.com/orchceph/orch/store"
)

// clientFileWrites returns host:path for every file write since the last
// call (offset into the fake's call log).
func clientFileWrites(e *cephSvcEnv, from *int) (writes, removes []string) {
	calls := e.fake.Calls()
	for _, c := range calls[*from:] {
		switch {
		case len(c.Argv) >= 5 && c.Argv[0] == "sh" && c.Argv[2] == writeFileScript:
			writes = append(writes, c.Host+":"+c.Argv[4])
		case len(c.Argv) >= 5 && c.Argv[0] == "sh" && c.Argv[2] == removeAdminFilesScript:
			removes = append(removes, c.Host)
		}
	}
	*from = len(calls)
	slices.Sort(writes)
	return writes, removes
}

func TestClientFilesFollowLabelsAndConf(t *testing.T) {
	e := newCephSvcEnv(t)
	conf := clientConf(e.fsid, "10.0.0.5")
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if c.Argv[0] == "podman" && slices.Contains(c.Argv, "generate-minimal-conf") {
			return []byte(conf), nil, true
		}
		return nil, nil, false
	})
	sync := func() { e.pass(t).syncClientFiles() }
	var at int

	// Before bootstrap (no client.admin keyring) nothing is written.
	sync()
	if w, r := clientFileWrites(e, &at); len(w)+len(r) != 0 {
		t.Fatalf("before bootstrap: writes %v removes %v", w, r)
	}
	const adminKeyring = "[client.admin]\n\tkey = AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
	if err := e.st.SetSecret(store.KeyringSecret("client.admin"), store.Secret(adminKeyring)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		change         func()
		writes, remove []string
	}{
		{"first pass writes the _admin host", func() {},
			[]string{"h1:" + AdminKeyringPath, "h1:" + CephConfPath}, nil},
		{"nothing changed: no SSH", func() {}, nil, nil},
		{"label added", func() { mustLabel(t, e, "h2", true) },
			[]string{"h2:" + AdminKeyringPath, "h2:" + CephConfPath}, nil},
		{"mon_host changed: both rewritten", func() { conf = clientConf(e.fsid, "10.0.0.5") + "\tmon_host = [v2:10.0.0.6:3300/0]\n" },
			[]string{"h1:" + AdminKeyringPath, "h1:" + CephConfPath, "h2:" + AdminKeyringPath, "h2:" + CephConfPath}, nil},
		{"label removed: files removed", func() { mustLabel(t, e, "h2", false) }, nil, []string{"h2"}},
		{"removed once only", func() {}, nil, nil},
		{"host offline: left alone", func() { setStatus(t, e, "h1", "offline"); conf += "#\n" }, nil, nil},
	}
	for _, tt := range tests {
		tt.change()
		sync()
		w, r := clientFileWrites(e, &at)
		if !slices.Equal(w, tt.writes) || !slices.Equal(r, tt.remove) {
			t.Errorf("%s: writes %v removes %v, want %v %v", tt.name, w, r, tt.writes, tt.remove)
		}
		if len(tt.writes) > 0 {
			e.fake.mu.Lock()
			if got := e.fake.files[CephConfPath]; got != conf || e.fake.modes[AdminKeyringPath] != "0600" || e.fake.files[AdminKeyringPath] != adminKeyring {
				t.Errorf("%s: conf %q (want %q), keyring mode %s", tt.name, got, conf, e.fake.modes[AdminKeyringPath])
			}
			e.fake.mu.Unlock()
		}
	}
	e.checkNoSecretInArgv(t)
	for _, c := range e.fake.Calls() {
		if strings.Contains(strings.Join(c.Argv, " "), "AQAAAAAA") {
			t.Errorf("admin key in argv: %s", c)
		}
	}
}

func mustLabel(t *testing.T, e *cephSvcEnv, host string, add bool) {
	t.Helper()
	var err error
	if add {
		_, err = e.ctl.AddLabel(host, AdminLabel)
	} else {
		_, err = e.ctl.RemoveLabel(host, AdminLabel, false)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func setStatus(t *testing.T, e *cephSvcEnv, host, status string) {
	t.Helper()
	h, err := e.st.GetHost(host)
	if err != nil {
		t.Fatal(err)
	}
	h.Status = status
	if err := e.st.PutHost(h); err != nil {
		t.Fatal(err)
	}
}
