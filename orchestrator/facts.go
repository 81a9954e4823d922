package orchestrator

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"syscall"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/store"
)

// Facts are a host's gather-facts answer (cephadm's HostFacts keys).
type Facts = agent.Facts

// HostFacts returns the host's facts from the last refresh, nil when none
// were gathered yet.
func (c *Controller) HostFacts(host string) (*Facts, error) {
	e, err := c.cachedEntry(host, store.CacheFacts)
	if err != nil || e == nil {
		return nil, err
	}
	var f Facts
	if err := json.Unmarshal(e.Data, &f); err != nil {
		return nil, fmt.Errorf("cached facts of %s: %w", host, err)
	}
	return &f, nil
}

// HostFactsJSON is GET /hosts/{host}/facts: the facts exactly as the agent
// reported them. Facts not gathered yet are ENOENT.
func (c *Controller) HostFactsJSON(host string) (json.RawMessage, error) {
	e, err := c.cachedEntry(host, store.CacheFacts)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, api.NewError(syscall.ENOENT, "no facts gathered from host %s yet (it is refreshed in the background; try again shortly)", host)
	}
	return e.Data, nil
}

// HostDetails is `orch host ls --detail`: every host with the summaries
// cephadm's HostDetails derives from its facts.
func (c *Controller) HostDetails() ([]api.HostDetails, error) {
	var out []api.HostDetails
	err := c.st.View(func(tx *store.Tx) error {
		hosts, err := tx.ListHosts()
		if err != nil {
			return err
		}
		for _, h := range hosts {
			hc, err := tx.GetHostCache(h.Name)
			if err != nil {
				return err
			}
			var facts map[string]any
			if e := hc.Entry(store.CacheFacts); !e.Refreshed.IsZero() && len(e.Data) > 0 {
				if err := json.Unmarshal(e.Data, &facts); err != nil {
					return fmt.Errorf("cached facts of %s: %w", h.Name, err)
				}
			}
			out = append(out, hostDetails(h, facts))
		}
		return nil
	})
	if out == nil {
		out = []api.HostDetails{}
	}
	return out, err
}

// hostDetails is cephadm's HostDetails._build: the HostSpec's keys, then
// server "vendor model", cpu_summary "<cores*count>C/<threads*cores*count>T",
// ram rounded up to GiB (MiB below 1 GiB), hdd/ssd "<count>/<capacity>"
// ("-" without disks, "N/A" without a capacity), nic_count.
func hostDetails(h store.Host, facts map[string]any) api.HostDetails {
	labels := h.Labels
	if labels == nil {
		labels = []string{}
	}
	addr := h.Addr
	if addr == "" {
		addr = h.Name
	}
	d := api.HostDetails{
		Addr: addr, Hostname: h.Name, Labels: labels, Status: h.Status, Location: h.Location,
		ServiceType: "host",
		HDDSummary:  "N/A", RAM: "N/A", CPUSummary: "N/A", Server: "N/A", OS: "N/A", SSDSummary: "N/A", NICCount: "N/A",
	}
	if len(facts) == 0 {
		return d
	}
	d.Server = strings.TrimSpace(factString(facts, "vendor")) + " " + strings.TrimSpace(factString(facts, "model"))
	cores := factInt(facts, "cpu_cores") * factInt(facts, "cpu_count")
	threads := factInt(facts, "cpu_threads") * cores
	if v, ok := facts["operating_system"].(string); ok {
		d.OS = v
	}
	if cores > 0 {
		d.CPUSummary = fmt.Sprintf("%dC/%dT", cores, threads)
	}
	total := float64(factInt(facts, "memory_total_kb")) * 1024
	div, suffix := float64(1<<20), "MiB"
	if total > 1<<30 {
		div, suffix = 1<<30, "GiB"
	}
	d.RAM = fmt.Sprintf("%d %s", int64(math.Ceil(total/div)), suffix)
	summary := func(count, capacity string) string {
		c := factString(facts, capacity)
		if c == "" {
			return "N/A"
		}
		n := factInt(facts, count)
		if n == 0 {
			return "-"
		}
		return fmt.Sprintf("%d/%s", n, c)
	}
	d.HDDSummary = summary("hdd_count", "hdd_capacity")
	d.SSDSummary = summary("flash_count", "flash_capacity")
	if v, ok := facts["nic_count"]; ok {
		d.NICCount = v
	} else {
		d.NICCount = ""
	}
	return d
}

func factString(f map[string]any, k string) string {
	s, _ := f[k].(string)
	return s
}

func factInt(f map[string]any, k string) int64 {
	switch v := f[k].(type) {
	case float64:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	}
	return 0
}
