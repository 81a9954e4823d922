package scheduler

import (
	"strconv"
	"strings"

	"github.com/orchceph/orch/spec"
)

// Host is one host known to the cluster, as the scheduler sees it.
type Host struct {
	// Name is the host name, unique within a cluster.
	Name string
	// Labels are the host's labels; "_no_schedule" marks a draining host
	// for SplitHosts, but Place only looks at ClusterState.Draining.
	Labels []string
	// Status is "" (online), "offline" or "maintenance" (case-insensitive).
	Status string
}

// Host statuses and the special label, as cephadm spells them.
const (
	StatusOffline     = "offline"
	StatusMaintenance = "maintenance"
	LabelNoSchedule   = "_no_schedule"
)

// HostNetworks is what a host reports about its networks:
// subnet (CIDR) → interface → addresses. It is cephadm's
// cache.networks[host].
type HostNetworks map[string]map[string][]string

// Daemon is an existing daemon of the service being placed.
type Daemon struct {
	Type     string // daemon type, e.g. "mgr", "haproxy"
	ID       string // daemon id; the daemon's name is Type + "." + ID
	Hostname string
	// Ports and IP are what the daemon was deployed with; empty means
	// unknown, and unknown never causes a mismatch.
	Ports []int
	IP    string
	// Rank and RankGeneration are set for ranked services (nfs).
	Rank           *int
	RankGeneration *int
	// IsActive marks the active daemon of an active/standby service.
	IsActive bool
}

// Name returns the daemon name "<type>.<id>".
func (d *Daemon) Name() string { return d.Type + "." + d.ID }

// Slot is one daemon placement, cephadm's DaemonPlacement. Ports slices
// may be shared between slots: treat them as read-only.
type Slot struct {
	DaemonType string
	Hostname   string
	// Network is the explicit host entry's network (host:network).
	Network string
	// Name is the forced daemon id of an explicit host entry (host=name).
	Name string
	// IP is the address the daemon binds to; "" means unset (None).
	IP    string
	Ports []int
	// Rank and RankGeneration are set on slots of ranked services.
	Rank           *int
	RankGeneration *int
}

// String renders the slot as cephadm's str(DaemonPlacement):
// type:host(rank=R.G network=N name=X ip:p1,p2).
func (s Slot) String() string {
	var b strings.Builder
	b.WriteString(s.DaemonType)
	b.WriteByte(':')
	b.WriteString(s.Hostname)
	n := 0
	sep := func() {
		if n == 0 {
			b.WriteByte('(')
		} else {
			b.WriteByte(' ')
		}
		n++
	}
	if s.Rank != nil {
		sep()
		b.WriteString("rank=")
		b.WriteString(strconv.Itoa(*s.Rank))
		b.WriteByte('.')
		if s.RankGeneration != nil {
			b.WriteString(strconv.Itoa(*s.RankGeneration))
		} else {
			b.WriteString("None")
		}
	}
	if s.Network != "" {
		sep()
		b.WriteString("network=")
		b.WriteString(s.Network)
	}
	if s.Name != "" {
		sep()
		b.WriteString("name=")
		b.WriteString(s.Name)
	}
	if len(s.Ports) > 0 {
		sep()
		if s.IP != "" {
			b.WriteString(s.IP)
		} else {
			b.WriteByte('*')
		}
		b.WriteByte(':')
		for i, p := range s.Ports {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(p))
		}
	}
	if n > 0 {
		b.WriteByte(')')
	}
	return b.String()
}

// RenumberPorts returns a copy of s with n added to every port, as colocated
// daemons of the same service get consecutive ports.
func (s Slot) RenumberPorts(n int) Slot {
	if len(s.Ports) > 0 {
		ports := make([]int, len(s.Ports))
		for i, p := range s.Ports {
			ports[i] = p + n
		}
		s.Ports = ports
	}
	return s
}

// MatchesDaemon reports whether the existing daemon d can fill slot s:
// same type and host, the slot's forced name if any, and (unless an upgrade
// is in progress) the slot's ports and IP where d has them recorded.
func (s Slot) MatchesDaemon(d *Daemon, upgradeInProgress bool) bool {
	if s.DaemonType != d.Type || s.Hostname != d.Hostname {
		return false
	}
	if s.Name != "" && s.Name != d.ID {
		return false
	}
	if !upgradeInProgress && len(s.Ports) > 0 {
		if len(d.Ports) > 0 && !equalInts(s.Ports, d.Ports) {
			return false
		}
		if d.IP != "" && s.IP != d.IP {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// RankMap is the stored rank map of a ranked service:
// rank → generation → daemon id. An empty daemon id stands for cephadm's
// None: the generation is reserved for a daemon that has no name yet.
type RankMap map[int]map[int]string

// Clone returns a deep copy of m (nil for nil).
func (m RankMap) Clone() RankMap {
	if m == nil {
		return nil
	}
	out := make(RankMap, len(m))
	for r, gens := range m {
		g := make(map[int]string, len(gens))
		for k, v := range gens {
			g[k] = v
		}
		out[r] = g
	}
	return out
}

// maxGen returns the newest generation of rank and whether the rank has any.
func (m RankMap) maxGen(rank int) (int, bool) {
	gens, ok := m[rank]
	if !ok || len(gens) == 0 {
		return 0, false
	}
	first := true
	best := 0
	for g := range gens {
		if first || g > best {
			best, first = g, false
		}
	}
	return best, true
}

// Request is everything about one service that placement needs. The
// per-service-type facts (ports, colocation, primary and per-host daemon
// types, ranking) come from the caller, as cephadm's service classes give
// them to HostAssignment.
type Request struct {
	// ServiceName seeds the candidate shuffle, e.g. "mgr", "nfs.foo".
	ServiceName string
	// ServiceType is the spec's service type, e.g. "mgr", "ingress".
	ServiceType string
	// OneLineStr is the spec's one_line_str() used in error messages, e.g.
	// "<ServiceSpec for service_name=mgr>"; empty means that form.
	OneLineStr string
	Placement  spec.PlacementSpec
	// Ports are the spec's start ports (get_port_start()); colocated
	// daemons on one host get them renumbered +1, +2, ...
	Ports []int
	// Networks are the spec's networks; when set, a candidate gets the
	// lowest address the host has on the first listed subnet it is on, and
	// hosts with none are dropped.
	Networks []string
	// IPAddrs are the spec's per-host addresses (ip_addrs), used when the
	// host really has that address.
	IPAddrs map[string]string
	// AllowColo allows more than one daemon of the service per host.
	AllowColo bool
	// PrimaryDaemonType is the daemon type placed in slots (default
	// ServiceType), e.g. "haproxy" for ingress.
	PrimaryDaemonType string
	// PerHostDaemonType, if set, gets one slot on every host that has a
	// primary slot, e.g. "keepalived" for ingress.
	PerHostDaemonType string
	// Ranked marks a ranked service (nfs); RankMap is then its stored rank
	// map (nil means empty). Place does not modify RankMap.
	Ranked  bool
	RankMap RankMap
	// Daemons are the existing daemons of the service, in the cache's
	// order (ties in the keep order are broken by this order).
	Daemons []Daemon
	// RelatedHosts are hosts running daemons of a related service (an
	// ingress and its backend); they are preferred for new daemons.
	RelatedHosts []string
	// BlockingHosts are hosts where the service must not run daemons.
	BlockingHosts []string
	// UpgradeInProgress makes port and IP differences not count when
	// matching existing daemons.
	UpgradeInProgress bool
	// PublicNetworks, when set (mon's public_network), keeps only hosts
	// with a subnet overlapping one of them.
	PublicNetworks []string
	// VirtualIPs, when set (ingress), keeps only hosts with an interface
	// on a subnet containing every virtual IP.
	VirtualIPs []string
	// Explain asks for Plan.Rejected.
	Explain bool
}

// Plan is the outcome of placing one service.
type Plan struct {
	// Slots are all placements the service should have: kept daemons
	// first (in keep order), then new ones, then per-host daemons.
	Slots []Slot
	// ToAdd are the slots that need a new daemon.
	ToAdd []Slot
	// ToRemove are existing daemons to remove. Daemons on unreachable
	// hosts are never in it.
	ToRemove []Daemon
	// RankMap is the rank map after placement (ranked services only):
	// new slots' generations are reserved with an empty daemon id.
	RankMap RankMap
	// Rejected says, when Request.Explain is set, why each host of the
	// cluster that got no slot was not used.
	Rejected []Rejection
}

// Rejection is one host that got no slot, and why.
type Rejection struct {
	Host   string
	Reason Reason
}

// Reason is why a host got no slot of a service.
type Reason string

// Rejection reasons, in the order Place checks them.
const (
	ReasonDraining          Reason = "host is draining (_no_schedule)"
	ReasonNotListed         Reason = "host is not in the placement's host list"
	ReasonLabelMissing      Reason = "host does not have the placement's label"
	ReasonPatternMismatch   Reason = "host name does not match the placement's host_pattern"
	ReasonNoNetworkIP       Reason = "host has no address on the service's networks"
	ReasonNotPublicNetwork  Reason = "host is not on a mon public_network"
	ReasonNoVIPInterface    Reason = "host has no interface for the virtual IP"
	ReasonOfflineReschedule Reason = "host is offline; daemons of this type are rescheduled elsewhere"
	ReasonUnreachable       Reason = "host is unreachable (offline or maintenance); no new daemons"
	ReasonBlocking          Reason = "host blocks daemons of this service"
	ReasonCountSatisfied    Reason = "the placement count is met by other hosts"
)
