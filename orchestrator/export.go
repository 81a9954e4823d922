package orchestrator

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/orchceph/orch/api"
)

// exportInventoryHost is one inventory[] entry: the host's cached device
// list, passed through as the refresh stored it.
type exportInventoryHost struct {
	Name    string          `json:"name"`
	Addr    string          `json:"addr,omitempty"`
	Devices json.RawMessage `json:"devices"`
}

// exportSnapshot is the cluster snapshot of the spec-and-plan contract.
type exportSnapshot struct {
	Hosts     []api.Host                                `json:"hosts"`
	Daemons   []api.DaemonDescription                   `json:"daemons"`
	Inventory []exportInventoryHost                     `json:"inventory"`
	Networks  map[string]map[string]map[string][]string `json:"networks"`
	RankMaps  map[string]map[string]map[string]*string  `json:"rank_maps"`
	Specs     []json.RawMessage                         `json:"specs"`
	// MonPublicNetwork is the mon public_network the placement honours.
	MonPublicNetwork string `json:"mon_public_network,omitempty"`
}

// Export is GET /export (`orch export`): hosts, daemons in the order the
// controller places with, device inventories, networks, rank maps and the
// applied (not deleted) specs, so that `orch plan --snapshot` replays the
// controller's own placement.
func (r *Reconciler) Export() (json.RawMessage, error) {
	v, err := r.loadView(viewOptions{devices: true})
	if err != nil {
		return nil, err
	}
	snap := exportSnapshot{Hosts: []api.Host{}, Daemons: []api.DaemonDescription{}, Inventory: []exportInventoryHost{},
		Networks: map[string]map[string]map[string][]string{}, RankMaps: map[string]map[string]map[string]*string{},
		Specs: []json.RawMessage{}, MonPublicNetwork: v.monPublicNetwork}
	for _, h := range v.hosts {
		snap.Hosts = append(snap.Hosts, toAPIHost(h))
		if raw, ok := v.devices[h.Name]; ok {
			devs := bytes.TrimSpace(raw)
			if len(devs) > 0 && devs[0] == '{' {
				var wrapped struct {
					Devices json.RawMessage `json:"devices"`
				}
				if json.Unmarshal(devs, &wrapped) == nil && wrapped.Devices != nil {
					devs = wrapped.Devices
				}
			}
			snap.Inventory = append(snap.Inventory, exportInventoryHost{Name: h.Name, Addr: h.Addr, Devices: devs})
		}
		if n, ok := v.networks[h.Name]; ok {
			snap.Networks[h.Name] = n
		}
	}
	for i := range v.daemons {
		d := v.daemons[i].DaemonDescription
		snap.Daemons = append(snap.Daemons, d)
	}
	for _, e := range v.specs {
		if e.deleted() {
			continue
		}
		snap.Specs = append(snap.Specs, e.rec.Spec)
		if len(e.rec.RankMap) == 0 {
			continue
		}
		rm := map[string]map[string]*string{}
		ranks := make([]int, 0, len(e.rec.RankMap))
		for r := range e.rec.RankMap {
			ranks = append(ranks, r)
		}
		sort.Ints(ranks)
		for _, rk := range ranks {
			gens := map[string]*string{}
			for g, id := range e.rec.RankMap[rk] {
				gens[strconv.Itoa(g)] = id
			}
			rm[strconv.Itoa(rk)] = gens
		}
		snap.RankMaps[e.rec.ServiceName] = rm
	}
	return json.Marshal(snap)
}
