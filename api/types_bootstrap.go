package api

import "fmt"

// BootstrapRequest is POST /bootstrap: `orch bootstrap`'s options (cephadm
// bootstrap's, for a controller that is not on the host).
type BootstrapRequest struct {
	// MonIP is the first monitor's address on the bootstrap host
	// (required).
	MonIP string `json:"mon_ip"`
	// Host is the bootstrap host's name; default: the stored host with
	// address MonIP, else the hostname the machine at MonIP reports.
	Host string `json:"host,omitempty"`
	// HostKey pins the host's SSH host key (authorized_keys format);
	// default: trusted on first use, as `orch host add`.
	HostKey string `json:"host_key,omitempty"`
	// Image is the Ceph container image; default: the cluster's.
	Image string `json:"image,omitempty"`
	// FSID replaces the controller's fsid; only while it manages no host.
	FSID string `json:"fsid,omitempty"`
	// SSHUser, SSHPrivateKey and SSHPublicKey set the cluster's SSH
	// identity first (as `orch ssh set-user|set-priv-key|set-pub-key`);
	// without a key the existing one is used, or one is generated.
	SSHUser       string `json:"ssh_user,omitempty"`
	SSHPrivateKey string `json:"ssh_private_key,omitempty"`
	SSHPublicKey  string `json:"ssh_public_key,omitempty"`
	// MonID and MgrID default to the short host name and
	// <short host>.<6 random letters>.
	MonID string `json:"mon_id,omitempty"`
	MgrID string `json:"mgr_id,omitempty"`
	// PublicNetwork defaults to the host's network that holds MonIP.
	PublicNetwork  string `json:"public_network,omitempty"`
	ClusterNetwork string `json:"cluster_network,omitempty"`
	// Config is ceph.conf text assimilated into the monitors'
	// configuration database once they are up (`config assimilate-conf`).
	Config string `json:"config,omitempty"`
	// SingleHostDefaults sets cephadm's --single-host-defaults options.
	SingleHostDefaults bool `json:"single_host_defaults,omitempty"`
	// AllowOverwrite replaces an existing /etc/ceph/ceph.conf or admin
	// keyring on the host.
	AllowOverwrite bool `json:"allow_overwrite,omitempty"`
	// NoCleanupOnFailure keeps what a failed bootstrap deployed (the next
	// bootstrap removes it first).
	NoCleanupOnFailure bool `json:"no_cleanup_on_failure,omitempty"`
	// MgrModule deploys every mgr daemon with orch's ceph-mgr module,
	// enabled and selected as the orchestrator backend, so that `ceph orch`
	// on the cluster reaches this controller (docs/mgr-module.md). It
	// needs the controller's TCP listener with its own CA (`orch serve
	// --listen ADDR --tls-auto`).
	MgrModule bool `json:"mgr_module,omitempty"`
	// ControllerURL is https://HOST:PORT of the controller as the hosts
	// reach it (default: the TCP listener's address); implies MgrModule.
	ControllerURL string `json:"controller_url,omitempty"`
}

// String never prints the private key.
func (r BootstrapRequest) String() string {
	return fmt.Sprintf("bootstrap mon_ip=%s host=%s image=%s fsid=%s", r.MonIP, r.Host, r.Image, r.FSID)
}

// Bootstrap states.
const (
	BootstrapRunning   = "running"
	BootstrapSucceeded = "succeeded"
	BootstrapFailed    = "failed"
)

// BootstrapStatus is the answer of POST /bootstrap and GET /bootstrap: one
// bootstrap attempt (an operation of kind "bootstrap") and how far it got.
type BootstrapStatus struct {
	Operation uint64 `json:"operation"`
	// State is running, succeeded or failed.
	State string `json:"state"`

	FSID          string `json:"fsid"`
	Host          string `json:"host,omitempty"`
	Addr          string `json:"addr,omitempty"`
	MonIP         string `json:"mon_ip"`
	MonID         string `json:"mon_id,omitempty"`
	MgrID         string `json:"mgr_id,omitempty"`
	PublicNetwork string `json:"public_network,omitempty"`
	Image         string `json:"image"`
	CephVersion   string `json:"ceph_version,omitempty"`
	// SSHPublicKey is the cluster key the host must authorise.
	SSHPublicKey string `json:"ssh_public_key,omitempty"`
	// GeneratedSSHKey is set when this bootstrap generated the key.
	GeneratedSSHKey bool `json:"generated_ssh_key,omitempty"`

	Steps []BootstrapStep `json:"steps"`

	Started  string  `json:"started"`
	Finished string  `json:"finished,omitempty"`
	Seconds  float64 `json:"seconds"`

	// Error, Errno and ErrnoName describe a failure.
	Error     string `json:"error,omitempty"`
	Errno     int    `json:"errno,omitempty"`
	ErrnoName string `json:"errno_name,omitempty"`
	// Cleanup says what happened to a failed attempt's daemons.
	Cleanup string `json:"cleanup,omitempty"`
	// NextSteps are printed after a successful bootstrap.
	NextSteps []string `json:"next_steps,omitempty"`
}

// Done reports whether the attempt finished.
func (s *BootstrapStatus) Done() bool { return s.State != BootstrapRunning }

// BootstrapStep is one step of a bootstrap.
type BootstrapStep struct {
	Name string `json:"name"`
	// State is running, done or failed.
	State   string  `json:"state"`
	Detail  string  `json:"detail,omitempty"`
	Seconds float64 `json:"seconds"`
}
