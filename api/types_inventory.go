package api

// Wire types of the inventory area: host details, device lights, refresh
// requests. Device inventories travel as inventory.InventoryHost (the
// `orch device ls --format json` shape) and facts as the agent's
// gather-facts JSON.

// HostDetails is cephadm's HostDetails.to_json() (`orch host ls --detail
// --format json`): the HostSpec keys plus the summaries derived from the
// host's facts, "N/A" where no facts are known. Fields are declared in
// key order, as ceph orch prints them (sort_keys).
type HostDetails struct {
	Addr       string            `json:"addr"`
	CPUSummary string            `json:"cpu_summary"`
	HDDSummary string            `json:"hdd_summary"`
	Hostname   string            `json:"hostname"`
	Labels     []string          `json:"labels"`
	Location   map[string]string `json:"location"`
	// NICCount is the facts' nic_count (a number), or "N/A".
	NICCount    any    `json:"nic_count"`
	OS          string `json:"os"`
	RAM         string `json:"ram"`
	Server      string `json:"server"`
	ServiceType string `json:"service_type"`
	SSDSummary  string `json:"ssd_summary"`
	Status      string `json:"status"`
}

// LightRequest is POST /devices/light: turn a disk's identification or
// fault LED on or off.
type LightRequest struct {
	On bool `json:"on"`
	// IdentFault is "ident" (default) or "fault".
	IdentFault string `json:"ident_fault"`
	Host       string `json:"host"`
	// Path is the device, /dev/sdb or sdb.
	Path string `json:"path"`
}

// RefreshRequest is POST /refresh: flag hosts (all when empty) for a
// refresh of kinds (daemons, facts, networks, devices; all when empty)
// and wake the refresher. It answers at once.
type RefreshRequest struct {
	Hosts []string `json:"hosts,omitempty"`
	Kinds []string `json:"kinds,omitempty"`
}
