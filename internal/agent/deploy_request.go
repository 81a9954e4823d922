package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/orchceph/orch/containers"
)

// DeployRequest is the one JSON document `orch agent deploy` reads on
// stdin: cephadm's newer `_orch deploy` shape (fsid, name, image, params,
// meta, config_blobs) plus orch's custom-container section and one-shot
// init containers. docs/agent-protocol.md is its reference. Secrets
// (config, keyring, files) only ever arrive here, on stdin.
type DeployRequest struct {
	FSID  string `json:"fsid"`
	Name  string `json:"name"`
	Image string `json:"image"`

	Params      DeployParams `json:"params"`
	Meta        DeployMeta   `json:"meta"`
	ConfigBlobs ConfigBlobs  `json:"config_blobs"`
	// Container describes a custom container (type "container"); other
	// types may use it to override entrypoint, args, env and mounts.
	Container *CustomContainer `json:"container,omitempty"`
	// InitContainers are one-shot containers run to completion, in order,
	// before the daemon (re)starts on a deploy or redeploy (never on a
	// reconfig) — for example `ceph-mon --mkfs` on the first deploy.
	InitContainers []InitContainer `json:"init_containers,omitempty"`
}

// DeployParams are cephadm's deploy options (the CLI flag names with "_").
type DeployParams struct {
	TCPPorts []int `json:"tcp_ports,omitempty"`
	// PortIPs binds the listen test of a port to one address
	// ({"8080": "10.0.0.5"}), as cephadm's port_ips.
	PortIPs             map[string]string `json:"port_ips,omitempty"`
	Reconfig            bool              `json:"reconfig,omitempty"`
	AllowPtrace         bool              `json:"allow_ptrace,omitempty"`
	ExtraContainerArgs  []string          `json:"extra_container_args,omitempty"`
	ExtraEntrypointArgs []string          `json:"extra_entrypoint_args,omitempty"`
	MemoryRequest       int64             `json:"memory_request,omitempty"`
	MemoryLimit         int64             `json:"memory_limit,omitempty"`
	// NoContainerInit drops --init (cephadm's --no-container-init).
	NoContainerInit bool `json:"no_container_init,omitempty"`
	// OSDFSID is the OSD's uuid (cephadm's --osd-fsid); recorded, unused
	// until OSD activation lands.
	OSDFSID string `json:"osd_fsid,omitempty"`
	// UID and GID own the data dir and the files written into it (cephadm
	// reads them from the image; 167:167 for Ceph images). Unset: root.
	UID *int `json:"uid,omitempty"`
	GID *int `json:"gid,omitempty"`
}

// DeployMeta is what the controller wants back from `ls` (unit.meta).
type DeployMeta struct {
	ServiceName         string   `json:"service_name"`
	Ports               []int    `json:"ports,omitempty"`
	IP                  *string  `json:"ip,omitempty"`
	DeployedBy          []string `json:"deployed_by,omitempty"`
	Rank                *int     `json:"rank,omitempty"`
	RankGeneration      *int     `json:"rank_generation,omitempty"`
	ExtraContainerArgs  []string `json:"extra_container_args,omitempty"`
	ExtraEntrypointArgs []string `json:"extra_entrypoint_args,omitempty"`
	ConfigDigest        string   `json:"config_digest,omitempty"`
}

// ConfigBlobs are the daemon's configuration: written into its data dir
// (mode 0600), never logged.
type ConfigBlobs struct {
	Config  string `json:"config,omitempty"`
	Keyring string `json:"keyring,omitempty"`
	// Files maps a path relative to the data dir to its content.
	Files             map[string]string  `json:"files,omitempty"`
	CustomConfigFiles []CustomConfigFile `json:"custom_config_files,omitempty"`
}

// CustomConfigFile is a spec custom_configs entry: written to
// <cluster>/custom_config_files/<name>/<basename> and bind-mounted at
// MountPath.
type CustomConfigFile struct {
	Content   string `json:"content"`
	MountPath string `json:"mount_path"`
}

// CustomContainer is cephadm's custom container config.
type CustomContainer struct {
	Entrypoint string   `json:"entrypoint,omitempty"`
	Args       []string `json:"args,omitempty"`
	// Envs are KEY=VALUE.
	Envs []string `json:"envs,omitempty"`
	// VolumeMounts maps a host path to a container path with optional
	// options ("/data:z"); a relative host path is inside the data dir
	// ("." is the data dir itself).
	VolumeMounts map[string]string `json:"volume_mounts,omitempty"`
	// Dirs are created inside the data dir.
	Dirs       []string `json:"dirs,omitempty"`
	Privileged bool     `json:"privileged,omitempty"`
}

// Init container run policies.
const (
	// RunEveryDeploy runs on every deploy and redeploy (the default).
	RunEveryDeploy = "every_deploy"
	// RunFirstDeploy runs only when the daemon is created (no unit.created
	// yet), e.g. ceph-mon --mkfs.
	RunFirstDeploy = "first_deploy"
)

// InitContainer is one one-shot container of a deploy.
type InitContainer struct {
	// Name is a short [a-z0-9-] tag; the container is
	// ceph-<fsid>-<type>-<id>-<name>.
	Name string `json:"name"`
	// Image defaults to the daemon's image.
	Image      string   `json:"image,omitempty"`
	Entrypoint string   `json:"entrypoint,omitempty"`
	Args       []string `json:"args,omitempty"`
	Envs       []string `json:"envs,omitempty"`
	// VolumeMounts as in CustomContainer (relative host paths are inside
	// the data dir, so "keyring" → "/tmp/keyring:z" works).
	VolumeMounts map[string]string `json:"volume_mounts,omitempty"`
	// DefaultMounts adds the daemon's own mounts first.
	DefaultMounts bool `json:"default_mounts,omitempty"`
	Privileged    bool `json:"privileged,omitempty"`
	// When is RunEveryDeploy (default) or RunFirstDeploy.
	When string `json:"when,omitempty"`
}

// DecodeDeployRequest reads exactly one JSON document. Unknown keys are
// errors: a misspelt "tcp_port" must not silently skip the port check.
func DecodeDeployRequest(r io.Reader) (*DeployRequest, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var req DeployRequest
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("decode deploy request: %w: %w", err, ErrInvalidArgument)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, fmt.Errorf("decode deploy request: more than one JSON document on stdin: %w", ErrInvalidArgument)
	}
	return &req, nil
}

// knownTypes are the daemon types cephadm deploys.
var knownTypes = map[string]bool{
	"container": true, "prometheus": true, "grafana": true, "alertmanager": true, "node-exporter": true,
	"loki": true, "promtail": true, "haproxy": true, "keepalived": true, "snmp-gateway": true,
	"elasticsearch": true, "jaeger-agent": true, "jaeger-collector": true, "jaeger-query": true,
	"nvmeof": true, "smb": true, "mgmt-gateway": true, "oauth2-proxy": true, "node-proxy": true,
}

var initNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Validate checks the request before anything on the host is touched.
func (r *DeployRequest) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("deploy %s: %s: %w", r.Name, fmt.Sprintf(format, a...), ErrInvalidArgument)
	}
	typ, _, err := validateDaemonRef(r.FSID, r.Name)
	if err != nil {
		return err
	}
	if !containers.IsCephType(typ) && !knownTypes[typ] {
		return bad("unsupported daemon type %q", typ)
	}
	if r.Image == "" {
		return bad("image is required")
	}
	seen := map[int]bool{}
	for _, p := range r.Params.TCPPorts {
		if p < 1 || p > 65535 {
			return bad("tcp port %d out of range", p)
		}
		if seen[p] {
			return bad("tcp port %d listed twice", p)
		}
		seen[p] = true
	}
	for p := range r.Params.PortIPs {
		if n, err := strconv.Atoi(p); err != nil || !seen[n] {
			return bad("port_ips names port %q, which is not in tcp_ports", p)
		}
	}
	for name := range r.ConfigBlobs.Files {
		if err := checkRelPath(name); err != nil {
			return bad("file %q: %v", name, err)
		}
		if name == "config" || name == "keyring" || strings.HasPrefix(name, "unit.") {
			return bad("file %q would overwrite a file the agent writes", name)
		}
	}
	bases := map[string]bool{}
	for _, cc := range r.ConfigBlobs.CustomConfigFiles {
		b := path.Base(cc.MountPath)
		if !path.IsAbs(cc.MountPath) || b == "/" || b == "." || b == ".." {
			return bad("custom config mount_path %q must be an absolute file path", cc.MountPath)
		}
		if bases[b] {
			return bad("two custom config files share the name %q", b)
		}
		bases[b] = true
	}
	if c := r.Container; c != nil {
		if err := checkEnvs(c.Envs); err != nil {
			return bad("container: %v", err)
		}
		if err := checkMounts(c.VolumeMounts); err != nil {
			return bad("container: %v", err)
		}
		for _, d := range c.Dirs {
			if err := checkRelPath(d); err != nil {
				return bad("container dir %q: %v", d, err)
			}
		}
	}
	names := map[string]bool{}
	for i, ic := range r.InitContainers {
		if !initNameRE.MatchString(ic.Name) {
			return bad("init container %d: name %q: want [a-z0-9-], at most 32 characters", i, ic.Name)
		}
		if names[ic.Name] {
			return bad("init container name %q used twice", ic.Name)
		}
		names[ic.Name] = true
		switch ic.When {
		case "", RunEveryDeploy, RunFirstDeploy:
		default:
			return bad("init container %s: when %q: want %s or %s", ic.Name, ic.When, RunEveryDeploy, RunFirstDeploy)
		}
		if err := checkEnvs(ic.Envs); err != nil {
			return bad("init container %s: %v", ic.Name, err)
		}
		if err := checkMounts(ic.VolumeMounts); err != nil {
			return bad("init container %s: %v", ic.Name, err)
		}
	}
	return nil
}

// checkRelPath accepts clean relative paths that stay inside their base.
func checkRelPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("want a clean relative path inside the data dir")
	}
	return nil
}

func checkEnvs(envs []string) error {
	for _, e := range envs {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("env %q: want KEY=VALUE", e)
		}
	}
	return nil
}

func checkMounts(m map[string]string) error {
	for host, ctr := range m {
		if host == "" || ctr == "" {
			return fmt.Errorf("volume mount %q: %q: empty path", host, ctr)
		}
		if !path.IsAbs(host) && host != "." { // "." is the data dir itself
			if err := checkRelPath(host); err != nil {
				return fmt.Errorf("volume mount %q: %v", host, err)
			}
		}
		if t, _ := splitMountTarget(ctr); !path.IsAbs(t) {
			return fmt.Errorf("volume mount target %q: want an absolute path", ctr)
		}
	}
	return nil
}

// splitMountTarget splits "/path[:opts]".
func splitMountTarget(s string) (target, opts string) {
	t, o, _ := strings.Cut(s, ":")
	return t, o
}

// mounts turns host→container mounts into containers.Mounts, sorted by
// host path (deterministic argv), relative hosts resolved in dataDir.
func mountsFrom(m map[string]string, dataDir string) []containers.Mount {
	hosts := make([]string, 0, len(m))
	for h := range m {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	out := make([]containers.Mount, 0, len(m))
	for _, h := range hosts {
		src := h
		if !path.IsAbs(src) {
			src = path.Join(dataDir, src)
		}
		t, o := splitMountTarget(m[h])
		out = append(out, containers.Mount{Source: src, Target: t, Options: o})
	}
	return out
}

// daemon renders the request as a containers.Daemon. Paths use dataRoot
// (custom config files become explicit mounts so that they follow it).
func (r *DeployRequest) daemon(hostname, dataRoot string) containers.Daemon {
	typ, id, _ := containers.SplitDaemonName(r.Name)
	dataDir := path.Join(dataRoot, r.FSID, r.Name)
	d := containers.Daemon{
		FSID: r.FSID, Type: typ, ID: id, Hostname: hostname, Image: r.Image,
		Ports:               append([]int(nil), r.Params.TCPPorts...),
		NoInit:              r.Params.NoContainerInit,
		ExtraContainerArgs:  append([]string(nil), r.Params.ExtraContainerArgs...),
		ExtraEntrypointArgs: append([]string(nil), r.Params.ExtraEntrypointArgs...),
		MemoryRequest:       r.Params.MemoryRequest,
		MemoryLimit:         r.Params.MemoryLimit,
	}
	if r.Params.AllowPtrace {
		d.ExtraContainerArgs = append([]string{"--cap-add=SYS_PTRACE"}, d.ExtraContainerArgs...)
	}
	if c := r.Container; c != nil {
		d.Entrypoint = c.Entrypoint
		d.Args = append([]string(nil), c.Args...)
		d.Env = append([]string(nil), c.Envs...)
		d.Privileged = c.Privileged
		d.Mounts = mountsFrom(c.VolumeMounts, dataDir)
	}
	ccDir := path.Join(dataRoot, r.FSID, "custom_config_files", r.Name)
	for _, cc := range r.ConfigBlobs.CustomConfigFiles {
		d.Mounts = append(d.Mounts, containers.Mount{Source: path.Join(ccDir, path.Base(cc.MountPath)), Target: cc.MountPath, Options: "z"})
	}
	return d
}

// meta renders unit.meta: the request's meta plus cephadm's additions
// (memory request/limit, ports from tcp_ports when meta has none).
func (r *DeployRequest) meta() containers.Meta {
	m := containers.Meta{
		ServiceName:         r.Meta.ServiceName,
		Ports:               r.Meta.Ports,
		IP:                  r.Meta.IP,
		DeployedBy:          r.Meta.DeployedBy,
		Rank:                r.Meta.Rank,
		RankGeneration:      r.Meta.RankGeneration,
		ExtraContainerArgs:  r.Meta.ExtraContainerArgs,
		ExtraEntrypointArgs: r.Meta.ExtraEntrypointArgs,
		ConfigDigest:        r.Meta.ConfigDigest,
	}
	if len(m.Ports) == 0 {
		m.Ports = append([]int(nil), r.Params.TCPPorts...)
	}
	if r.Params.MemoryRequest > 0 {
		v := r.Params.MemoryRequest
		m.MemoryRequest = &v
	}
	if r.Params.MemoryLimit > 0 {
		v := r.Params.MemoryLimit
		m.MemoryLimit = &v
	}
	return m
}

// String never prints secrets: only the identity of the request.
func (r *DeployRequest) String() string {
	return fmt.Sprintf("deploy %s fsid=%s image=%s", r.Name, r.FSID, r.Image)
}
