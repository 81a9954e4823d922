package scheduler

import (
	"slices"
	"strings"
	"sync"
)

// ClusterState is the cluster-wide input of a scheduling pass, with
// cephadm's meaning of each list.
type ClusterState struct {
	// Hosts are the schedulable hosts (cephadm's get_schedulable_hosts:
	// known hosts that are not draining). A host name listed twice is
	// kept once, the first time.
	Hosts []Host
	// Unreachable are offline or in-maintenance hosts: no new daemons go
	// there and their daemons are never removed.
	Unreachable []string
	// Draining are hosts labelled _no_schedule: they are never candidates
	// but still count as known for explicit host lists.
	Draining []string
	// Networks are the hosts' networks, keyed by host name.
	Networks map[string]HostNetworks
}

// SplitHosts derives a ClusterState from every known host the way cephadm's
// host cache does: hosts labelled _no_schedule are draining and not
// schedulable; offline and maintenance hosts are unreachable.
func SplitHosts(all []Host, networks map[string]HostNetworks) ClusterState {
	st := ClusterState{Networks: networks}
	for _, h := range all {
		draining := slices.Contains(h.Labels, LabelNoSchedule)
		if draining {
			st.Draining = append(st.Draining, h.Name)
		} else {
			st.Hosts = append(st.Hosts, h)
		}
		switch strings.ToLower(h.Status) {
		case StatusOffline, StatusMaintenance:
			st.Unreachable = append(st.Unreachable, h.Name)
		}
	}
	return st
}

// Cluster is a prepared, immutable index of a ClusterState: hosts sorted by
// name once, a label index, name lookups and status bits. Build it once
// per scheduling pass and call Place for every service; it is safe for
// concurrent use.
type Cluster struct {
	hosts       []Host   // sorted by name, unique names
	names       []string // hosts[i].Name
	byName      map[string]int32
	labels      map[string][]int32 // label → host indices, ascending (= name order)
	unreachable []bool             // by host index
	maintenance []bool             // by host index
	unreachSet  map[string]struct{}
	draining    map[string]struct{}
	drainNames  []string
	networks    map[string]HostNetworks
	// allCands is the candidate list of a rule that selects every host,
	// copied (one memmove) by each Place that needs it.
	allCands []cand
	// pool recycles Place's working slices (see scratch).
	pool sync.Pool
}

// NewCluster prepares st for placement. It copies what it keeps of st's
// slices; st.Networks is shared and must not be modified afterwards.
func NewCluster(st ClusterState) *Cluster {
	n := len(st.Hosts)
	// Sort (name, input index) pairs: pdqsort is much faster than a stable
	// sort, and the index keeps the first of duplicate names first.
	type hostKey struct {
		name string
		i    int32
	}
	order := make([]hostKey, n)
	sorted := true
	for i := range order {
		order[i] = hostKey{st.Hosts[i].Name, int32(i)}
		if i > 0 && order[i].name < order[i-1].name {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(order, func(a, b hostKey) int {
			if c := strings.Compare(a.name, b.name); c != 0 {
				return c
			}
			return int(a.i - b.i)
		})
	}
	c := &Cluster{
		hosts:      make([]Host, 0, n),
		names:      make([]string, 0, n),
		byName:     make(map[string]int32, n),
		labels:     make(map[string][]int32),
		unreachSet: make(map[string]struct{}, len(st.Unreachable)),
		draining:   make(map[string]struct{}, len(st.Draining)),
		networks:   st.Networks,
	}
	for _, k := range order {
		h := st.Hosts[k.i]
		if len(c.names) > 0 && c.names[len(c.names)-1] == h.Name {
			continue
		}
		idx := int32(len(c.hosts))
		c.hosts = append(c.hosts, h)
		c.names = append(c.names, h.Name)
		c.byName[h.Name] = idx
		for j, l := range h.Labels {
			if slices.Contains(h.Labels[:j], l) {
				continue
			}
			c.labels[l] = append(c.labels[l], idx)
		}
	}
	c.allCands = make([]cand, len(c.hosts))
	for i := range c.allCands {
		c.allCands[i] = cand{host: int32(i), hps: -1, ip: -1}
	}
	c.unreachable = make([]bool, len(c.hosts))
	c.maintenance = make([]bool, len(c.hosts))
	for i, h := range c.hosts {
		c.maintenance[i] = strings.EqualFold(h.Status, StatusMaintenance)
	}
	for _, name := range st.Unreachable {
		c.unreachSet[name] = struct{}{}
		if i, ok := c.byName[name]; ok {
			c.unreachable[i] = true
		}
	}
	for _, name := range st.Draining {
		if _, dup := c.draining[name]; !dup {
			c.drainNames = append(c.drainNames, name)
		}
		c.draining[name] = struct{}{}
	}
	return c
}

// Len returns the number of schedulable hosts.
func (c *Cluster) Len() int { return len(c.hosts) }

// isUnreachable reports whether the named host is unreachable.
func (c *Cluster) isUnreachable(name string) bool {
	_, ok := c.unreachSet[name]
	return ok
}
