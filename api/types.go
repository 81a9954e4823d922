package api

// Wire types. Host JSON is cephadm's HostSpec.to_json(); the request and
// answer envelopes follow what ceph-mgr orchestrator backends exchange.

// Host is HostSpec.to_json(): hostname, addr, labels, status[, location].
type Host struct {
	Hostname string            `json:"hostname"`
	Addr     string            `json:"addr"`
	Labels   []string          `json:"labels"`
	Status   string            `json:"status"`
	Location map[string]string `json:"location,omitempty"`
}

// AddHostRequest adds a host. HostKey (an authorized_keys-format public key)
// or KnownHosts (known_hosts file contents) pins the host key the operator
// expects; with neither, the key the host presents is trusted on first use
// and its fingerprint returned.
type AddHostRequest struct {
	Host
	HostKey    string `json:"host_key,omitempty"`
	KnownHosts string `json:"known_hosts,omitempty"`
	// AddrGiven says the operator typed the address (a loopback address is
	// refused unless it was given explicitly).
	AddrGiven bool `json:"addr_given,omitempty"`
}

// Message is the answer of most mutating calls.
type Message struct {
	Message string `json:"message"`
}

// AddHostResponse reports the pinned host key.
type AddHostResponse struct {
	Message     string `json:"message"`
	Fingerprint string `json:"fingerprint"`
	// TrustedOnFirstUse is true when no key was given and the presented
	// key was pinned.
	TrustedOnFirstUse bool `json:"trusted_on_first_use"`
}

// LabelRequest adds a label.
type LabelRequest struct {
	Label string `json:"label"`
}

// AddrRequest changes a host's address.
type AddrRequest struct {
	Addr string `json:"addr"`
}

// HostKeyRequest replaces a host's pinned key: either the key given, or
// (AcceptNew) the key the host presents now.
type HostKeyRequest struct {
	HostKey   string `json:"host_key,omitempty"`
	AcceptNew bool   `json:"accept_new,omitempty"`
}

// Status is GET /status: what `ceph orch status` shows.
type Status struct {
	Available bool           `json:"available"`
	Reason    string         `json:"reason"`
	Details   map[string]any `json:"details"`
}

// Text carries one text value (a public key, a user, an ssh_config).
type Text struct {
	Value string `json:"value"`
}

// ApplyRequest is POST /apply.
type ApplyRequest struct {
	Specs       []map[string]any `json:"specs"`
	NoOverwrite bool             `json:"no_overwrite"`
}
