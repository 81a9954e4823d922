package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestHosts(t *testing.T) {
	s := openTest(t, Options{})
	added := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		put     Host
		wantErr error
		want    Host
	}{
		{"new host gets Added=now", Host{Name: "b", Addr: "10.0.0.2", Labels: []string{"mon"}, HostKey: "ssh-ed25519 AAAAB"},
			nil, Host{Name: "b", Addr: "10.0.0.2", Labels: []string{"mon"}, HostKey: "ssh-ed25519 AAAAB", Added: testTime}},
		{"explicit Added kept", Host{Name: "a", Addr: "10.0.0.1", Status: "maintenance", Location: map[string]string{"rack": "r1"}, Added: added},
			nil, Host{Name: "a", Addr: "10.0.0.1", Status: "maintenance", Location: map[string]string{"rack": "r1"}, Added: added}},
		{"update keeps stored Added", Host{Name: "a", Addr: "10.0.0.9"},
			nil, Host{Name: "a", Addr: "10.0.0.9", Added: added}},
		{"empty name", Host{}, ErrInvalid, Host{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.PutHost(tt.put)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PutHost = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			got, err := s.GetHost(tt.put.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(got, tt.want) {
				t.Errorf("GetHost = %+v, want %+v", got, tt.want)
			}
		})
	}
	hosts, err := s.ListHosts()
	if err != nil {
		t.Fatal(err)
	}
	if names := hostNames(hosts); names != "a,b" {
		t.Errorf("ListHosts = %s, want sorted a,b", names)
	}
	if _, err := s.GetHost("zz"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"zz"`) {
		t.Errorf("GetHost(missing) = %v, want ErrNotFound naming the host", err)
	}
	if err := s.DeleteHost("zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteHost(missing) = %v, want ErrNotFound", err)
	}
}

func hostNames(hs []Host) string {
	var n []string
	for _, h := range hs {
		n = append(n, h.Name)
	}
	return strings.Join(n, ",")
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestHostCache(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.PutHost(Host{Name: "h1"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 1, 12, 0, 0, 123, time.UTC)
	tests := []struct {
		name    string
		host    string
		kind    CacheKind
		data    string
		at      time.Time
		wantErr error
	}{
		{"daemons", "h1", CacheDaemons, `[{"name":"mon.h1"}]`, at, nil},
		{"facts default time", "h1", CacheFacts, `{"kernel":"6.1"}`, time.Time{}, nil},
		{"devices", "h1", CacheDevices, `[]`, at, nil},
		{"networks", "h1", CacheNetworks, `{"10.0.0.0/24":{"eth0":["10.0.0.1"]}}`, at, nil},
		{"unknown host", "nope", CacheDaemons, `[]`, at, ErrNotFound},
		{"unknown kind", "h1", CacheKind("osdspec"), `[]`, at, ErrInvalid},
		{"bad json", "h1", CacheDaemons, `[`, at, ErrInvalid},
		{"empty data", "h1", CacheDaemons, ``, at, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.UpdateHostCache(tt.host, tt.kind, json.RawMessage(tt.data), tt.at)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("UpdateHostCache = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			c, err := s.GetHostCache(tt.host)
			if err != nil {
				t.Fatal(err)
			}
			e := c.Entry(tt.kind)
			wantAt := tt.at
			if wantAt.IsZero() {
				wantAt = testTime
			}
			if string(e.Data) != tt.data || !e.Refreshed.Equal(wantAt) {
				t.Errorf("entry = %s @ %v, want %s @ %v", e.Data, e.Refreshed, tt.data, wantAt)
			}
		})
	}

	// Refresh flags are independent of the data.
	if err := s.SetRefreshNeeded("h1", CacheDevices, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRefreshNeeded("h1", CacheFacts, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRefreshNeeded("h1", CacheFacts, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRefreshNeeded("ghost", CacheFacts, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetRefreshNeeded(unknown host) = %v, want ErrNotFound", err)
	}
	c, err := s.GetHostCache("h1")
	if err != nil {
		t.Fatal(err)
	}
	if want := (RefreshFlags{Devices: true}); c.RefreshNeeded != want {
		t.Errorf("flags %+v, want %+v", c.RefreshNeeded, want)
	}

	// Another host: never probed, then listed.
	if err := s.PutHost(Host{Name: "h0"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.GetHostCache("h0"); err != nil || c.Host != "h0" || c.Daemons.Data != nil {
		t.Errorf("GetHostCache(unprobed) = %+v, %v; want empty", c, err)
	}
	if err := s.UpdateHostCache("h0", CacheDaemons, json.RawMessage(`[]`), at); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListHostCaches()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Host != "h0" || all[1].Host != "h1" {
		t.Fatalf("ListHostCaches = %+v, want h0, h1", all)
	}

	// Removing the host removes its cache.
	if err := s.DeleteHost("h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHostCache("h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetHostCache after DeleteHost = %v, want ErrNotFound", err)
	}
	if err := s.DeleteHostCache("h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteHostCache after DeleteHost = %v, want ErrNotFound", err)
	}
	if all, _ := s.ListHostCaches(); len(all) != 1 {
		t.Errorf("ListHostCaches after DeleteHost = %d entries, want 1", len(all))
	}
}

func TestSpecs(t *testing.T) {
	s := openTest(t, Options{})
	created := time.Date(2022, 2, 2, 0, 0, 0, 0, time.UTC)
	name := "mds.fs1"
	tests := []struct {
		name    string
		op      func() error
		wantErr error
		check   func(t *testing.T, r SpecRecord)
	}{
		{"put new", func() error {
			return s.PutSpec(SpecRecord{ServiceName: name, Spec: json.RawMessage(`{"service_type":"mds","service_id":"fs1"}`)})
		}, nil, func(t *testing.T, r SpecRecord) {
			if !r.Created.Equal(testTime) || r.Deleted != nil {
				t.Errorf("created %v deleted %v", r.Created, r.Deleted)
			}
		}},
		{"put with rank map keeps created", func() error {
			d := "mds.fs1.h1.abc"
			return s.PutSpec(SpecRecord{ServiceName: name, Spec: json.RawMessage(`{"service_type":"mds","service_id":"fs1","placement":{"count":2}}`),
				RankMap: RankMap{0: {0: &d, 1: nil}}})
		}, nil, func(t *testing.T, r SpecRecord) {
			if !r.Created.Equal(testTime) {
				t.Errorf("created changed to %v", r.Created)
			}
			if d := r.RankMap[0][0]; d == nil || *d != "mds.fs1.h1.abc" {
				t.Errorf("rank map %+v", r.RankMap)
			}
			if v, ok := r.RankMap[0][1]; !ok || v != nil {
				t.Errorf("rank 0 gen 1 = %v, %v; want present and nil", v, ok)
			}
			if !strings.Contains(string(r.Spec), `"count":2`) {
				t.Errorf("spec body %s", r.Spec)
			}
		}},
		{"mark deleted", func() error { return s.MarkSpecDeleted(name, created) }, nil, func(t *testing.T, r SpecRecord) {
			if r.Deleted == nil || !r.Deleted.Equal(created) {
				t.Errorf("deleted %v", r.Deleted)
			}
		}},
		{"mark deleted again keeps first time", func() error { return s.MarkSpecDeleted(name, time.Time{}) }, nil, func(t *testing.T, r SpecRecord) {
			if r.Deleted == nil || !r.Deleted.Equal(created) {
				t.Errorf("deleted %v", r.Deleted)
			}
		}},
		{"mark missing", func() error { return s.MarkSpecDeleted("nope", time.Time{}) }, ErrNotFound, nil},
		{"invalid body", func() error { return s.PutSpec(SpecRecord{ServiceName: "x", Spec: json.RawMessage(`{`)}) }, ErrInvalid, nil},
		{"empty name", func() error { return s.PutSpec(SpecRecord{Spec: json.RawMessage(`{}`)}) }, ErrInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if tt.check == nil {
				return
			}
			r, err := s.GetSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
	if err := s.PutSpec(SpecRecord{ServiceName: "crash", Spec: json.RawMessage(`{"service_type":"crash"}`)}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSpecs()
	if err != nil || len(list) != 2 || list[0].ServiceName != "crash" || list[1].ServiceName != name {
		t.Fatalf("ListSpecs = %+v, %v", list, err)
	}
	if err := s.PurgeSpec(name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSpec(name); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSpec after purge = %v", err)
	}
	if err := s.PurgeSpec(name); !errors.Is(err, ErrNotFound) {
		t.Errorf("PurgeSpec twice = %v", err)
	}
}

func TestEvents(t *testing.T) {
	s := openTest(t, Options{MaxEventsPerSubject: 3})
	tests := []struct {
		name     string
		appends  []Event
		kind     EventKind
		subject  string
		wantMsgs string
		wantSeqs string
		wantErr  error
	}{
		{"ordered", []Event{{Kind: EventService, Subject: "mon", Message: "1"}, {Kind: EventService, Subject: "mon", Message: "2", Level: LevelError}},
			EventService, "mon", "1,2", "1,2", nil},
		{"bounded per subject", []Event{
			{Kind: EventService, Subject: "mon", Message: "3"}, {Kind: EventService, Subject: "mon", Message: "4"}, {Kind: EventService, Subject: "mon", Message: "5"}},
			EventService, "mon", "3,4,5", "3,4,5", nil},
		{"subjects are separate", []Event{{Kind: EventDaemon, Subject: "mon", Message: "d1"}},
			EventDaemon, "mon", "d1", "1", nil},
		{"no events", nil, EventDaemon, "osd.3", "", "", nil},
		{"bad kind", []Event{{Kind: "host", Subject: "h", Message: "x"}}, "host", "h", "", "", ErrInvalid},
		{"empty subject", []Event{{Kind: EventDaemon, Message: "x"}}, EventDaemon, "", "", "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range tt.appends {
				got, err := s.AppendEvent(e)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("AppendEvent = %v, want %v", err, tt.wantErr)
				}
				if err == nil && (got.Seq == 0 || !got.Created.Equal(testTime) || got.Level == "") {
					t.Errorf("AppendEvent did not fill seq/created/level: %+v", got)
				}
			}
			evs, err := s.ListEvents(tt.kind, tt.subject)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ListEvents = %v, want %v", err, tt.wantErr)
			}
			var msgs, seqs []string
			for _, e := range evs {
				msgs = append(msgs, e.Message)
				seqs = append(seqs, fmt.Sprint(e.Seq))
			}
			if m, q := strings.Join(msgs, ","), strings.Join(seqs, ","); m != tt.wantMsgs || q != tt.wantSeqs {
				t.Errorf("events %s (seqs %s), want %s (%s)", m, q, tt.wantMsgs, tt.wantSeqs)
			}
		})
	}
	if err := s.DeleteEvents(EventService, "mon"); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.ListEvents(EventService, "mon"); len(evs) != 0 {
		t.Errorf("events after delete: %+v", evs)
	}
	if err := s.DeleteEvents(EventService, "mon"); err != nil {
		t.Errorf("DeleteEvents twice = %v", err)
	}
	if evs, _ := s.ListEvents(EventDaemon, "mon"); len(evs) != 1 {
		t.Errorf("daemon:mon events touched by service:mon delete: %+v", evs)
	}
}

func TestOperations(t *testing.T) {
	clock := testTime
	s := openTest(t, Options{Now: func() time.Time { return clock }})
	a, err := s.CreateOperation(Operation{Kind: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateOperation(Operation{Kind: "host-add", State: OpRunning})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 1 || b.ID != 2 || a.State != OpPending || b.State != OpRunning || !a.Created.Equal(testTime) {
		t.Fatalf("created %+v %+v", a, b)
	}
	clock = testTime.Add(time.Minute)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		id      uint64
		fn      func(*Operation) error
		wantErr error
		check   func(Operation) bool
	}{
		{"progress and message", a.ID, func(op *Operation) error {
			op.State, op.Progress = OpRunning, 0.5
			op.Messages = append(op.Messages, "deploying mon.a")
			return nil
		}, nil, func(op Operation) bool {
			return op.State == OpRunning && op.Progress == 0.5 && len(op.Messages) == 1 && op.Updated.Equal(clock) && op.Created.Equal(testTime)
		}},
		{"result and id immutable", a.ID, func(op *Operation) error {
			op.ID, op.State, op.Progress, op.Result = 99, OpSucceeded, 1, json.RawMessage(`{"ok":true}`)
			return nil
		}, nil, func(op Operation) bool { return op.ID == a.ID && string(op.Result) == `{"ok":true}` }},
		{"fn error aborts", a.ID, func(op *Operation) error { op.State = OpFailed; return boom }, boom,
			func(op Operation) bool { return op.State == OpSucceeded }},
		{"bad result", b.ID, func(op *Operation) error { op.Result = json.RawMessage(`nope`); return nil }, ErrInvalid,
			func(op Operation) bool { return op.Result == nil }},
		{"missing", 42, func(*Operation) error { return nil }, ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UpdateOperation(tt.id, tt.fn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("UpdateOperation = %v, want %v", err, tt.wantErr)
			}
			if tt.check == nil {
				return
			}
			op, err := s.GetOperation(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(op) {
				t.Errorf("stored operation %+v", op)
			}
		})
	}
	ops, err := s.ListOperations()
	if err != nil || len(ops) != 2 || ops[0].ID != 1 || ops[1].ID != 2 {
		t.Fatalf("ListOperations = %+v, %v", ops, err)
	}
	if err := s.DeleteOperation(1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOperation(1); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteOperation twice = %v", err)
	}
	if c, err := s.CreateOperation(Operation{Kind: "x"}); err != nil || c.ID != 3 {
		t.Errorf("ids are not reused: %+v %v", c, err)
	}
	if _, err := s.CreateOperation(Operation{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("CreateOperation without kind = %v", err)
	}
}

func TestOSDRemovalQueue(t *testing.T) {
	s := openTest(t, Options{})
	w := 1.5
	started := testTime
	tests := []struct {
		name    string
		r       OSDRemoval
		wantErr error
	}{
		{"osd.10", OSDRemoval{OSDID: 10, Hostname: "h2", Zap: true, OriginalWeight: &w, ProcessStartedAt: &started}, nil},
		{"osd.2", OSDRemoval{OSDID: 2, Hostname: "h1", Replace: true, Draining: true}, nil},
		{"osd.0", OSDRemoval{OSDID: 0, Hostname: "h1"}, nil},
		{"negative id", OSDRemoval{OSDID: -1}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.PutOSDRemoval(tt.r); !errors.Is(err, tt.wantErr) {
				t.Fatalf("PutOSDRemoval = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			got, err := s.GetOSDRemoval(tt.r.OSDID)
			if err != nil || !jsonEqual(got, tt.r) {
				t.Errorf("GetOSDRemoval = %+v, %v; want %+v", got, err, tt.r)
			}
		})
	}
	q, err := s.ListOSDRemovals()
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, r := range q {
		ids = append(ids, r.OSDID)
	}
	if fmt.Sprint(ids) != "[0 2 10]" {
		t.Errorf("queue order %v, want numeric [0 2 10]", ids)
	}
	if err := s.DeleteOSDRemoval(2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOSDRemoval(2); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetOSDRemoval after delete = %v", err)
	}
	if err := s.DeleteOSDRemoval(2); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteOSDRemoval twice = %v", err)
	}
}

func TestUpgradeState(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.GetUpgradeState(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetUpgradeState on new store = %v", err)
	}
	total, remaining := 10, 4
	u := UpgradeState{TargetName: "quay.io/ceph/ceph:v18.2.1", ProgressID: "p1", TargetDigests: []string{"sha256:ab"},
		FSOriginalMaxMDS: map[string]int{"fs1": 2}, Paused: true, Error: "UPGRADE_FAILED_PULL", DaemonTypes: []string{"mgr", "mon"},
		TotalCount: &total, RemainingCount: &remaining}
	if err := s.PutUpgradeState(u); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUpgradeState()
	if err != nil || !jsonEqual(got, u) {
		t.Fatalf("GetUpgradeState = %+v, %v", got, err)
	}
	if err := s.PutUpgradeState(UpgradeState{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("PutUpgradeState without target = %v", err)
	}
	for range 2 { // clearing is idempotent
		if err := s.ClearUpgradeState(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetUpgradeState(); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetUpgradeState after clear = %v", err)
	}
}

func TestClusterAndSettings(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.GetCluster(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetCluster on new store = %v", err)
	}
	c, err := s.UpdateCluster(func(c *Cluster) error { c.Paused = true; return nil })
	if err != nil || !c.Paused {
		t.Fatalf("UpdateCluster = %+v, %v", c, err)
	}
	want := Cluster{FSID: "3a1b", SSHUser: "root", SSHConfig: "Host *\n  StrictHostKeyChecking yes\n", ContainerImage: "quay.io/ceph/ceph:v18", Paused: true}
	if _, err := s.UpdateCluster(func(c *Cluster) error {
		c.FSID, c.SSHUser, c.SSHConfig, c.ContainerImage = want.FSID, want.SSHUser, want.SSHConfig, want.ContainerImage
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetCluster(); err != nil || got != want {
		t.Errorf("GetCluster = %+v, %v; want %+v", got, err, want)
	}
	stop := errors.New("stop")
	if _, err := s.UpdateCluster(func(c *Cluster) error { c.FSID = "changed"; return stop }); !errors.Is(err, stop) {
		t.Errorf("UpdateCluster fn error = %v", err)
	}
	if got, _ := s.GetCluster(); got.FSID != want.FSID {
		t.Errorf("failed UpdateCluster changed FSID to %q", got.FSID)
	}

	tests := []struct {
		name, key, value string
		wantErr          error
	}{
		{"simple", "mgr/cephadm/use_repo_digest", "false", nil},
		{"empty value allowed", "mgr/cephadm/registry_url", "", nil},
		{"overwrite", "mgr/cephadm/use_repo_digest", "true", nil},
		{"empty name", "", "x", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetSetting(tt.key, tt.value); !errors.Is(err, tt.wantErr) {
				t.Fatalf("SetSetting = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if v, err := s.GetSetting(tt.key); err != nil || v != tt.value {
				t.Errorf("GetSetting = %q, %v", v, err)
			}
		})
	}
	list, err := s.ListSettings()
	if err != nil || len(list) != 2 || list[0].Name != "mgr/cephadm/registry_url" || list[1].Value != "true" {
		t.Errorf("ListSettings = %+v, %v", list, err)
	}
	if err := s.DeleteSetting("mgr/cephadm/registry_url"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSetting("mgr/cephadm/registry_url"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSetting after delete = %v", err)
	}
}

// TestSecretsNeverFormatted stores key material and checks every way it could
// leak into a log line or API output.
func TestSecretsNeverFormatted(t *testing.T) {
	var logs bytes.Buffer
	s := openTest(t, Options{Logger: zerolog.New(&logs).Level(zerolog.TraceLevel)})
	key := Secret("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
	if err := s.SetSecret(SecretSSHPrivateKey, key); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSecret(KeyringSecret("client.admin"), Secret("[client.admin]\n\tkey = AQBsecret==\n")); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSecret(SecretSSHPrivateKey)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("GetSecret = %q, %v", []byte(got), err)
	}
	names, err := s.ListSecretNames()
	if err != nil || strings.Join(names, ",") != "keyring/client.admin,ssh/private_key" {
		t.Errorf("ListSecretNames = %v, %v", names, err)
	}
	js, _ := json.Marshal(struct{ K Secret }{got})
	zl := bytes.Buffer{}
	zlog := zerolog.New(&zl)
	zlog.Info().Interface("k", got).Stringer("s", got).Msg("")
	for _, out := range []string{
		fmt.Sprint(got), fmt.Sprintf("%v %+v %#v %s %q %x %X", got, got, got, got, got, got, got),
		string(js), zl.String(), logs.String(),
	} {
		if strings.Contains(out, "BEGIN") || strings.Contains(out, "b3Bl") || strings.Contains(out, "6233") || strings.Contains(out, "AQB") {
			t.Errorf("secret leaked: %q", out)
		}
	}
	if err := s.DeleteSecret(SecretSSHPrivateKey); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSecret(SecretSSHPrivateKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSecret after delete = %v", err)
	}
}

// TestUpdateIsAtomic: a failing Update leaves nothing behind, and a View
// cannot write.
func TestUpdateIsAtomic(t *testing.T) {
	s := openTest(t, Options{})
	fail := errors.New("abort")
	err := s.Update(func(tx *Tx) error {
		if err := tx.PutHost(Host{Name: "h1"}); err != nil {
			return err
		}
		if err := tx.UpdateHostCache("h1", CacheDaemons, json.RawMessage(`[]`), time.Time{}); err != nil {
			return err
		}
		if _, err := tx.CreateOperation(Operation{Kind: "host-add"}); err != nil {
			return err
		}
		if _, err := tx.GetHost("h1"); err != nil { // visible inside the transaction
			return err
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	if _, err := s.GetHost("h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("host survived a failed Update: %v", err)
	}
	if ops, _ := s.ListOperations(); len(ops) != 0 {
		t.Errorf("operation survived a failed Update: %+v", ops)
	}
	if op, err := s.CreateOperation(Operation{Kind: "x"}); err != nil || op.ID != 1 {
		t.Errorf("sequence advanced by a failed Update: %+v %v", op, err)
	}
	if err := s.View(func(tx *Tx) error { return tx.PutHost(Host{Name: "h2"}) }); err == nil {
		t.Errorf("PutHost inside View succeeded")
	}
}
