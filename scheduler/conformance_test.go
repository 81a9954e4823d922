package scheduler

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/orchceph/orch/spec"
)

// The conformance cases are cephadm's test_scheduling.py written out as
// JSON (../shared/conformance/cases/scheduling.json, see its README).
// Every case is checked with the semantics its README states, and every
// case with a derived_exact result is also checked in full order.

func sharedDir() string {
	if d := os.Getenv("ORCH_SHARED"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared")
}

type schedCase struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Source    string   `json:"source"`
	Comment   string   `json:"comment"`
	Hosts     []cHost  `json:"hosts"`
	Unreach   []string `json:"unreachable_hosts"`
	Draining  []string `json:"draining_hosts"`
	Spec      cSpec    `json:"spec"`
	Daemons   []cDaemon
	Existing  []cDaemon       `json:"existing_daemons"`
	Options   cOptions        `json:"options"`
	Expect    json.RawMessage `json:"expect"`
	Derived   *cDerived       `json:"derived_exact"`
	SeedName  string          `json:"seed_service_name"`
	Seed      *uint32         `json:"seed"`
	Placement *cSlot          `json:"placement"`
	N         int             `json:"n"`
	Daemon    *cDaemon        `json:"daemon"`
}

type cHost struct {
	Hostname string   `json:"hostname"`
	Labels   []string `json:"labels"`
	Status   string   `json:"status"`
}

type cSpec struct {
	ServiceType  string     `json:"service_type"`
	ServiceID    string     `json:"service_id"`
	Placement    cPlacement `json:"placement"`
	Networks     []string   `json:"networks"`
	FrontendPort *int       `json:"frontend_port"`
	MonitorPort  *int       `json:"monitor_port"`
	VirtualIP    string     `json:"virtual_ip"`
}

type cPlacement struct {
	Count        *int            `json:"count"`
	CountPerHost *int            `json:"count_per_host"`
	Label        string          `json:"label"`
	Hosts        []string        `json:"hosts"`
	HostPattern  json.RawMessage `json:"host_pattern"`
}

type cDaemon struct {
	DaemonType     string `json:"daemon_type"`
	DaemonID       string `json:"daemon_id"`
	Hostname       string `json:"hostname"`
	Ports          []int  `json:"ports"`
	IP             string `json:"ip"`
	Rank           *int   `json:"rank"`
	RankGeneration *int   `json:"rank_generation"`
	IsActive       bool   `json:"is_active"`
}

type cOptions struct {
	AllowColo bool                                  `json:"allow_colo"`
	RankMap   map[string]map[string]*string         `json:"rank_map"`
	Networks  map[string]map[string]json.RawMessage `json:"networks"`
	Primary   string                                `json:"primary_daemon_type"`
	PerHost   string                                `json:"per_host_daemon_type"`
}

type cSlot struct {
	DaemonType string `json:"daemon_type"`
	Hostname   string `json:"hostname"`
	Network    string `json:"network"`
	Name       string `json:"name"`
	IP         string `json:"ip"`
	Ports      []int  `json:"ports"`
}

type cDerived struct {
	Result struct {
		Slots    []string `json:"slots"`
		ToAdd    []string `json:"to_add"`
		ToRemove []string `json:"to_remove"`
		Error    *cError  `json:"error"`
	} `json:"result"`
}

type cError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type cExpect struct {
	Error               *cError `json:"error"`
	SlotHostnamesSorted *struct {
		Mode  string          `json:"mode"`
		Value json.RawMessage `json:"value"`
	} `json:"slot_hostnames_sorted"`
	Slots                    []string        `json:"slots"`
	ToAdd                    []string        `json:"to_add"`
	ToRemoveNames            []string        `json:"to_remove_names"`
	PostRankMap              json.RawMessage `json:"post_rank_map"`
	SlotsLen                 *int            `json:"slots_len"`
	SlotHostnamesSubsetOf    []string        `json:"slot_hostnames_subset_of"`
	SlotHostnamesMustInclude []string        `json:"slot_hostnames_must_include"`
	SlotHostnamesSortedIn    [][]string      `json:"slot_hostnames_sorted_in"`
	ToAddHostnamesSortedIn   [][]string      `json:"to_add_hostnames_sorted_in"`
	ToRemoveNamesSortedIn    [][]string      `json:"to_remove_names_sorted_in"`
	ToAddHostnamesSorted     []string        `json:"to_add_hostnames_sorted"`
	CandidateHostnames       []string        `json:"candidate_hostnames"`
}

func loadCases(t testing.TB) []schedCase {
	t.Helper()
	path := filepath.Join(sharedDir(), "conformance", "cases", "scheduling.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("conformance cases not available: %v", err)
	}
	var cs []schedCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cs
}

// requiresID are cephadm's service types that keep a service_id (plus osd).
var requiresID = map[string]bool{"iscsi": true, "nvmeof": true, "mds": true, "nfs": true, "rgw": true,
	"container": true, "ingress": true, "smb": true, "osd": true}

// specClass is the Python class name ServiceSpec(...) dispatches to.
var specClass = map[string]string{"rgw": "RGWSpec", "nfs": "NFSServiceSpec", "ingress": "IngressSpec",
	"mds": "MDSSpec", "alertmanager": "AlertManagerSpec", "prometheus": "PrometheusSpec",
	"grafana": "GrafanaSpec", "mon": "MONSpec"}

// portStart is get_port_start() for the spec fields the cases use.
func portStart(s cSpec) []int {
	switch s.ServiceType {
	case "rgw":
		return []int{80}
	case "ingress":
		return []int{*s.FrontendPort, *s.MonitorPort}
	case "alertmanager":
		return []int{9093, 9094}
	case "prometheus":
		return []int{9095}
	case "grafana":
		return []int{3000}
	}
	return nil
}

var (
	reHPSHost = regexp.MustCompile(`^(.*?)(:|=|$)`)
	reHPSNet  = regexp.MustCompile(`:(.*?)(=|$)`)
	reHPSName = regexp.MustCompile(`=(.*?)$`)
)

func parseHPS(s string) spec.HostPlacementSpec {
	h := spec.HostPlacementSpec{Hostname: reHPSHost.FindStringSubmatch(s)[1]}
	if m := reHPSNet.FindStringSubmatch(s); m != nil {
		h.Network = m[1]
	}
	if m := reHPSName.FindStringSubmatch(s); m != nil {
		h.Name = m[1]
	}
	return h
}

func (c *schedCase) clusterState(t testing.TB) ClusterState {
	st := ClusterState{Unreachable: c.Unreach, Draining: c.Draining}
	for _, h := range c.Hosts {
		st.Hosts = append(st.Hosts, Host{Name: h.Hostname, Labels: h.Labels, Status: h.Status})
	}
	if c.Options.Networks != nil {
		st.Networks = map[string]HostNetworks{}
		for host, subnets := range c.Options.Networks {
			hn := HostNetworks{}
			for subnet, raw := range subnets {
				var ifaces map[string][]string
				if err := json.Unmarshal(raw, &ifaces); err != nil {
					var ips []string
					if err := json.Unmarshal(raw, &ips); err != nil {
						t.Fatalf("%s: networks %s: %v", c.ID, raw, err)
					}
					ifaces = map[string][]string{"": ips}
				}
				hn[subnet] = ifaces
			}
			st.Networks[host] = hn
		}
	}
	return st
}

func (c *schedCase) request(t testing.TB) *Request {
	s := c.Spec
	name := s.ServiceType
	if s.ServiceID != "" && requiresID[s.ServiceType] {
		name += "." + s.ServiceID
	}
	class := specClass[s.ServiceType]
	if class == "" {
		class = "ServiceSpec"
	}
	req := &Request{
		ServiceName:       name,
		ServiceType:       s.ServiceType,
		OneLineStr:        "<" + class + " for service_name=" + name + ">",
		Ports:             portStart(s),
		Networks:          s.Networks,
		AllowColo:         c.Options.AllowColo,
		PrimaryDaemonType: c.Options.Primary,
		PerHostDaemonType: c.Options.PerHost,
		Explain:           true,
	}
	p := s.Placement
	req.Placement = spec.PlacementSpec{Count: p.Count, CountPerHost: p.CountPerHost, Label: p.Label}
	for _, h := range p.Hosts {
		req.Placement.Hosts = append(req.Placement.Hosts, parseHPS(h))
	}
	if len(p.HostPattern) > 0 && string(p.HostPattern) != "null" {
		var str string
		if err := json.Unmarshal(p.HostPattern, &str); err == nil {
			req.Placement.HostPattern = &spec.HostPattern{Pattern: str, Type: spec.PatternFnmatch}
		} else {
			var hp struct {
				Pattern     string `json:"pattern"`
				PatternType string `json:"pattern_type"`
			}
			if err := json.Unmarshal(p.HostPattern, &hp); err != nil {
				t.Fatalf("%s: host_pattern: %v", c.ID, err)
			}
			typ := spec.PatternFnmatch
			if hp.PatternType == "regex" {
				typ = spec.PatternRegex
			}
			req.Placement.HostPattern = &spec.HostPattern{Pattern: hp.Pattern, Type: typ}
		}
	}
	if c.Options.RankMap != nil {
		req.Ranked = true
		req.RankMap = rankMapFromJSON(t, c.Options.RankMap)
	}
	for _, d := range c.Existing {
		req.Daemons = append(req.Daemons, d.daemon())
	}
	return req
}

func (d cDaemon) daemon() Daemon {
	return Daemon{Type: d.DaemonType, ID: d.DaemonID, Hostname: d.Hostname, Ports: d.Ports, IP: d.IP,
		Rank: d.Rank, RankGeneration: d.RankGeneration, IsActive: d.IsActive}
}

func rankMapFromJSON(t testing.TB, m map[string]map[string]*string) RankMap {
	out := RankMap{}
	for rs, gens := range m {
		r, err := strconv.Atoi(rs)
		if err != nil {
			t.Fatalf("rank %q: %v", rs, err)
		}
		out[r] = map[int]string{}
		for gs, id := range gens {
			g, err := strconv.Atoi(gs)
			if err != nil {
				t.Fatalf("generation %q: %v", gs, err)
			}
			v := ""
			if id != nil {
				v = *id
			}
			out[r][g] = v
		}
	}
	return out
}

func strs(slots []Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.String()
	}
	return out
}

func hostnames(slots []Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Hostname
	}
	return out
}

func names(ds []Daemon) []string {
	out := make([]string, len(ds))
	for i := range ds {
		out[i] = ds[i].Name()
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func equalSorted(a, b []string) bool { return slices.Equal(sorted(a), sorted(b)) }

func containsList(alts [][]string, got []string) bool {
	for _, a := range alts {
		if slices.Equal(sorted(a), sorted(got)) && slices.Equal(a, sorted(got)) {
			return true
		}
	}
	return false
}

func TestConformanceScheduling(t *testing.T) {
	cases := loadCases(t)
	var exact, exactOK int
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			switch c.Kind {
			case "renumber_ports":
				checkRenumber(t, c)
				return
			case "matches_daemon":
				checkMatchesDaemon(t, c)
				return
			case "get_candidates":
				checkCandidates(t, c)
				return
			case "place":
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			cl := NewCluster(c.clusterState(t))
			req := c.request(t)
			plan, err := cl.Place(req)
			checkPlaceExpect(t, c, req, plan, err)
			if c.Derived != nil {
				exact++
				if checkDerived(t, c, plan, err) {
					exactOK++
				}
			}
		})
	}
	t.Logf("exact level: %d/%d", exactOK, exact)
}

func checkRenumber(t *testing.T, c schedCase) {
	var e cSlot
	if err := json.Unmarshal(c.Expect, &e); err != nil {
		t.Fatal(err)
	}
	s := Slot{DaemonType: c.Placement.DaemonType, Hostname: c.Placement.Hostname, Ports: c.Placement.Ports}
	got := s.RenumberPorts(c.N)
	want := Slot{DaemonType: e.DaemonType, Hostname: e.Hostname, Ports: e.Ports}
	if got.String() != want.String() || !slices.Equal(got.Ports, want.Ports) {
		t.Errorf("RenumberPorts(%d) = %v, want %v", c.N, got, want)
	}
	if c.N != 0 && len(s.Ports) > 0 && slices.Equal(s.Ports, got.Ports) {
		t.Errorf("RenumberPorts modified the receiver")
	}
}

func checkMatchesDaemon(t *testing.T, c schedCase) {
	var want bool
	if err := json.Unmarshal(c.Expect, &want); err != nil {
		t.Fatal(err)
	}
	s := Slot{DaemonType: c.Placement.DaemonType, Hostname: c.Placement.Hostname, Name: c.Placement.Name,
		IP: c.Placement.IP, Ports: c.Placement.Ports}
	d := c.Daemon.daemon()
	if got := s.MatchesDaemon(&d, false); got != want {
		t.Errorf("%v.MatchesDaemon(%s) = %v, want %v", s, d.Name(), got, want)
	}
}

func checkCandidates(t *testing.T, c schedCase) {
	var e cExpect
	if err := json.Unmarshal(c.Expect, &e); err != nil {
		t.Fatal(err)
	}
	req := c.request(t)
	if c.Seed != nil {
		if got := seedSHA1(c.SeedName); got != *c.Seed {
			t.Errorf("seed(%q) = %d, want %d", c.SeedName, got, *c.Seed)
		}
	}
	got, err := NewCluster(c.clusterState(t)).Candidates(req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hostnames(got), e.CandidateHostnames) {
		t.Errorf("candidates = %v, want %v", hostnames(got), e.CandidateHostnames)
	}
}

func checkPlaceExpect(t *testing.T, c schedCase, req *Request, plan *Plan, err error) {
	var e cExpect
	if err := json.Unmarshal(c.Expect, &e); err != nil {
		t.Fatal(err)
	}
	if e.Error != nil {
		checkError(t, e.Error, err)
		return
	}
	if m := e.SlotHostnamesSorted; m != nil && m.Mode == "unchecked" {
		// A vacuous upstream row (the un-called `none` helper): only the
		// derived_exact result says what cephadm does.
		return
	}
	if err != nil {
		t.Fatalf("Place: %v", err)
	}
	if m := e.SlotHostnamesSorted; m != nil {
		got := hostnames(plan.Slots)
		switch m.Mode {
		case "exactly":
			var v []string
			mustJSON(t, m.Value, &v)
			if !slices.Equal(sorted(got), sorted(v)) || !slices.Equal(sorted(got), v) {
				t.Errorf("sorted slot hosts = %v, want %v", sorted(got), v)
			}
		case "one_of":
			var v []string
			mustJSON(t, m.Value, &v)
			if len(got) != 1 || !slices.Contains(v, got[0]) {
				t.Errorf("slot hosts = %v, want one of %v", got, v)
			}
		case "two_of":
			var v []string
			mustJSON(t, m.Value, &v)
			n := 0
			for _, h := range v {
				if slices.Contains(got, h) {
					n++
				}
			}
			if len(got) != 2 || n != 2 {
				t.Errorf("slot hosts = %v, want two of %v", got, v)
			}
		case "any_of_exactly":
			var v [][]string
			mustJSON(t, m.Value, &v)
			if !containsList(v, got) {
				t.Errorf("sorted slot hosts = %v, want one of %v", sorted(got), v)
			}
		default:
			t.Fatalf("unknown mode %q", m.Mode)
		}
	}
	if e.Slots != nil && !equalSorted(e.Slots, strs(plan.Slots)) {
		t.Errorf("slots = %v, want (any order) %v", strs(plan.Slots), e.Slots)
	}
	if e.ToAdd != nil && !equalSorted(e.ToAdd, strs(plan.ToAdd)) {
		t.Errorf("to_add = %v, want (any order) %v", strs(plan.ToAdd), e.ToAdd)
	}
	if e.ToRemoveNames != nil && !equalSorted(e.ToRemoveNames, names(plan.ToRemove)) {
		t.Errorf("to_remove = %v, want %v", names(plan.ToRemove), e.ToRemoveNames)
	}
	if len(e.PostRankMap) > 0 {
		var want map[string]map[string]*string
		mustJSON(t, e.PostRankMap, &want)
		if want == nil {
			if plan.RankMap != nil {
				t.Errorf("rank map = %v, want null", plan.RankMap)
			}
		} else {
			wm := rankMapFromJSON(t, want)
			if !rankMapsEqual(wm, plan.RankMap) {
				t.Errorf("rank map = %v, want %v", plan.RankMap, wm)
			}
			if req.RankMap != nil && rankMapsEqual(req.RankMap, plan.RankMap) != rankMapsEqual(req.RankMap, wm) {
				t.Errorf("input rank map was modified")
			}
		}
	}
	if e.SlotsLen != nil && len(plan.Slots) != *e.SlotsLen {
		t.Errorf("len(slots) = %d, want %d", len(plan.Slots), *e.SlotsLen)
	}
	for _, h := range hostnames(plan.Slots) {
		if e.SlotHostnamesSubsetOf != nil && !slices.Contains(e.SlotHostnamesSubsetOf, h) {
			t.Errorf("slot host %s not among %v", h, e.SlotHostnamesSubsetOf)
		}
	}
	for _, h := range e.SlotHostnamesMustInclude {
		if !slices.Contains(hostnames(plan.Slots), h) {
			t.Errorf("slot hosts %v lack %s", hostnames(plan.Slots), h)
		}
	}
	if e.SlotHostnamesSortedIn != nil && !containsList(e.SlotHostnamesSortedIn, hostnames(plan.Slots)) {
		t.Errorf("sorted slot hosts %v not in %v", sorted(hostnames(plan.Slots)), e.SlotHostnamesSortedIn)
	}
	if e.ToAddHostnamesSortedIn != nil && !containsList(e.ToAddHostnamesSortedIn, hostnames(plan.ToAdd)) {
		t.Errorf("sorted to_add hosts %v not in %v", sorted(hostnames(plan.ToAdd)), e.ToAddHostnamesSortedIn)
	}
	if e.ToRemoveNamesSortedIn != nil && !containsList(e.ToRemoveNamesSortedIn, names(plan.ToRemove)) {
		t.Errorf("sorted to_remove %v not in %v", sorted(names(plan.ToRemove)), e.ToRemoveNamesSortedIn)
	}
	if e.ToAddHostnamesSorted != nil && !slices.Equal(sorted(hostnames(plan.ToAdd)), e.ToAddHostnamesSorted) {
		t.Errorf("sorted to_add hosts = %v, want %v", sorted(hostnames(plan.ToAdd)), e.ToAddHostnamesSorted)
	}
}

func checkError(t *testing.T, want *cError, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Place succeeded, want %s(%q)", want.Type, want.Message)
	}
	var pe *PlacementError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a *PlacementError", err, err)
	}
	if pe.Error() != want.Message || pe.Kind != want.Type {
		t.Errorf("error = %s(%q), want %s(%q)", pe.Kind, pe.Error(), want.Type, want.Message)
	}
	if !errors.Is(err, spec.ErrInvalidSpec) {
		t.Errorf("errors.Is(%v, spec.ErrInvalidSpec) = false", err)
	}
}

// checkDerived compares the full Python output in order. Per-host daemons
// come from a Python set in cephadm, so their order is compared sorted.
func checkDerived(t *testing.T, c schedCase, plan *Plan, err error) bool {
	t.Helper()
	r := c.Derived.Result
	if r.Error != nil {
		if err == nil || err.Error() != r.Error.Message {
			t.Errorf("exact: error = %v, want %q", err, r.Error.Message)
			return false
		}
		return true
	}
	if err != nil {
		t.Errorf("exact: Place: %v", err)
		return false
	}
	split := func(ss []string) ([]string, []string) {
		var main, per []string
		for _, s := range ss {
			if c.Options.PerHost != "" && len(s) > len(c.Options.PerHost) && s[:len(c.Options.PerHost)+1] == c.Options.PerHost+":" {
				per = append(per, s)
			} else {
				main = append(main, s)
			}
		}
		sort.Strings(per)
		return main, per
	}
	ok := true
	for _, x := range []struct {
		what      string
		want, got []string
	}{{"slots", r.Slots, strs(plan.Slots)}, {"to_add", r.ToAdd, strs(plan.ToAdd)}} {
		wm, wp := split(x.want)
		gm, gp := split(x.got)
		if !slices.Equal(wm, gm) || !slices.Equal(wp, gp) {
			t.Errorf("exact: %s = %v, want %v", x.what, x.got, x.want)
			ok = false
		}
	}
	if !slices.Equal(names(plan.ToRemove), r.ToRemove) && !(len(r.ToRemove) == 0 && len(plan.ToRemove) == 0) {
		t.Errorf("exact: to_remove = %v, want %v (in order)", names(plan.ToRemove), r.ToRemove)
		ok = false
	}
	return ok
}

func rankMapsEqual(a, b RankMap) bool {
	if len(a) != len(b) {
		return false
	}
	for r, ga := range a {
		gb, ok := b[r]
		if !ok || len(ga) != len(gb) {
			return false
		}
		for g, v := range ga {
			if w, ok := gb[g]; !ok || w != v {
				return false
			}
		}
	}
	return true
}

func mustJSON(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}
