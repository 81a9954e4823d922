package orchestrator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/containers"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

// DefaultCephImage is the image of Ceph daemons when the cluster names none.
const DefaultCephImage = "quay.io/ceph/ceph:v18"

// defaultImages are cephadm's container_image_<type> defaults (Reef).
var defaultImages = map[string]string{
	"prometheus":       "quay.io/prometheus/prometheus:v2.43.0",
	"node-exporter":    "quay.io/prometheus/node-exporter:v1.5.0",
	"alertmanager":     "quay.io/prometheus/alertmanager:v0.25.0",
	"grafana":          "quay.io/ceph/ceph-grafana:9.4.7",
	"haproxy":          "quay.io/ceph/haproxy:2.3",
	"keepalived":       "quay.io/ceph/keepalived:2.2.4",
	"loki":             "docker.io/grafana/loki:2.4.0",
	"promtail":         "docker.io/grafana/promtail:2.4.0",
	"snmp-gateway":     "docker.io/maxwo/snmp-notifier:v1.2.1",
	"elasticsearch":    "quay.io/omrizeneva/elasticsearch:6.8.23",
	"jaeger-agent":     "quay.io/jaegertracing/jaeger-agent:1.29",
	"jaeger-collector": "quay.io/jaegertracing/jaeger-collector:1.29",
	"jaeger-query":     "quay.io/jaegertracing/jaeger-query:1.29",
	"nvmeof":           "quay.io/ceph/nvmeof:1.0.0",
}

// daemonSpec is one daemon to deploy, cephadm's CephadmDaemonDeploySpec.
type daemonSpec struct {
	svc        *specEntry
	daemonType string
	id         string
	host       string
	ports      []int
	ip         string
	rank, gen  *int
	// ceph is the cluster configuration of Ceph daemon types (set by
	// pass.prepCeph); nil leaves the placeholder ceph.conf.
	ceph *cephEnv
	// monIP is a mon's public address (its host's).
	monIP string
}

func (d *daemonSpec) name() string { return d.daemonType + "." + d.id }

// deployDoc is a built deploy request with the digests that decide later
// whether the daemon must be reconfigured or redeployed.
type deployDoc struct {
	req *agent.DeployRequest
	// digest is "c=<config>,r=<run>" (see digests).
	digest string
}

// digestParts splits "c=<hex>,r=<hex>".
func digestParts(d string) (cfg, run string) {
	for _, p := range strings.Split(d, ",") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "c":
			cfg = v
		case "r":
			run = v
		}
	}
	return cfg, run
}

func shortSHA(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// image returns the image of a daemon type: the spec's (custom containers),
// the mgr/cephadm/container_image_<type> setting, the cluster image for
// Ceph daemons, else cephadm's default.
func (r *Reconciler) image(cl store.Cluster, s *spec.ServiceSpec, daemonType string) string {
	if s != nil && s.ServiceType == "container" {
		if img, ok := s.Field("image"); ok {
			if str, ok := img.(string); ok && str != "" {
				return str
			}
		}
	}
	if v, err := r.st.GetSetting("mgr/cephadm/container_image_" + strings.ReplaceAll(daemonType, "-", "_")); err == nil && v != "" {
		return v
	}
	if containers.IsCephType(daemonType) {
		if cl.ContainerImage != "" {
			return cl.ContainerImage
		}
		return DefaultCephImage
	}
	if img := defaultImages[daemonType]; img != "" {
		return img
	}
	if cl.ContainerImage != "" {
		return cl.ContainerImage
	}
	return DefaultCephImage
}

// specArgs flattens extra_*_args as cephadm's mgr does (each argument
// split on spaces unless it was given with split: false).
func specArgs(args []spec.ArgumentSpec) []string {
	var out []string
	for _, a := range args {
		out = append(out, a.Args()...)
	}
	return out
}

func anyInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		if x == math.Trunc(x) {
			return int(x), true
		}
	case json.Number:
		n, err := strconv.Atoi(string(x))
		return n, err == nil
	}
	return 0, false
}

func anyStrings(v any) []string {
	l, ok := v.([]any)
	if !ok {
		if ss, ok := v.([]string); ok {
			return ss
		}
		return nil
	}
	var out []string
	for _, e := range l {
		switch x := e.(type) {
		case string:
			out = append(out, x)
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func anyStringMap(v any) map[string]string {
	out := map[string]string{}
	add := func(k, x any) {
		ks, ok := k.(string)
		if !ok {
			return
		}
		switch val := x.(type) {
		case string:
			out[ks] = val
		case []any:
			out[ks] = strings.Join(anyStrings(val), "\n")
		case nil:
		default:
			out[ks] = fmt.Sprint(val)
		}
	}
	switch m := v.(type) {
	case *spec.Map:
		m.Each(add)
	case map[string]any:
		for k, x := range m {
			add(k, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// containerPorts are the ports a daemon holds beyond its slot's: a custom
// container's spec ports (cephadm adds them to the daemon's ports when it
// deploys), an nfs gateway's default port (nfsImplicitPorts).
func containerPorts(s *spec.ServiceSpec) []int {
	if s != nil && s.ServiceType == "nfs" {
		return nfsImplicitPorts(s)
	}
	if s == nil || s.ServiceType != "container" {
		return nil
	}
	v, _ := s.Field("ports")
	l, _ := v.([]any)
	var out []int
	for _, p := range l {
		if n, ok := anyInt(p); ok {
			out = append(out, n)
		}
	}
	return out
}

// minimalConf is the placeholder ceph.conf of Ceph daemon types the
// reconciler does not configure yet (nfs, iscsi, ceph-exporter); the
// others get the cluster's minimal conf and keyring (cephsvc.go).
func minimalConf(fsid string) string {
	return "# minimal ceph.conf for " + fsid + "\n[global]\n\tfsid = " + fsid + "\n"
}

// buildDeploy renders the agent's deploy document for d (cephadm's
// prepare_create + _create_daemon): image, ports, meta, config blobs and,
// for custom containers, the container section.
func (r *Reconciler) buildDeploy(cl store.Cluster, d *daemonSpec, reconfig bool) (*deployDoc, error) {
	var s *spec.ServiceSpec
	if d.svc != nil {
		s = d.svc.spec
	}
	req := &agent.DeployRequest{
		FSID:  cl.FSID,
		Name:  d.name(),
		Image: r.image(cl, s, d.daemonType),
	}
	ports := append([]int(nil), d.ports...)
	req.Params.TCPPorts = ports
	req.Params.Reconfig = reconfig
	var ip *string
	if d.ip != "" {
		v := d.ip
		ip = &v
		req.Params.PortIPs = map[string]string{}
		for _, p := range ports {
			req.Params.PortIPs[strconv.Itoa(p)] = d.ip
		}
	}
	svcName := ""
	if d.svc != nil {
		svcName = d.svc.rec.ServiceName
	}
	req.Meta = agent.DeployMeta{ServiceName: svcName, Ports: ports, IP: ip, Rank: d.rank, RankGeneration: d.gen}
	var extraC, extraE []string
	if s != nil {
		extraC, extraE = specArgs(s.ExtraContainerArgs), specArgs(s.ExtraEntrypointArgs)
		for _, cc := range s.CustomConfigs {
			req.ConfigBlobs.CustomConfigFiles = append(req.ConfigBlobs.CustomConfigFiles,
				agent.CustomConfigFile{Content: cc.Content, MountPath: cc.MountPath})
		}
	}
	if d.ceph != nil && (isCephSvcType(d.daemonType) || d.daemonType == "osd") {
		applyCephBlobs(req, d)
	} else if containers.IsCephType(d.daemonType) {
		req.ConfigBlobs.Config = minimalConf(cl.FSID)
	}
	if s != nil && s.ServiceType == "container" {
		c := &agent.CustomContainer{}
		if v, ok := s.Field("entrypoint"); ok {
			c.Entrypoint, _ = v.(string)
		}
		if v, ok := s.Field("envs"); ok {
			c.Envs = anyStrings(v)
		}
		if v, ok := s.Field("volume_mounts"); ok {
			c.VolumeMounts = anyStringMap(v)
		}
		if v, ok := s.Field("dirs"); ok {
			c.Dirs = anyStrings(v)
		}
		if v, ok := s.Field("privileged"); ok {
			c.Privileged, _ = v.(bool)
		}
		// cephadm's custom container "args" are podman run arguments.
		if v, ok := s.Field("args"); ok {
			extraC = append(anyStrings(v), extraC...)
		}
		if v, ok := s.Field("files"); ok {
			req.ConfigBlobs.Files = anyStringMap(v)
		}
		for _, k := range []string{"uid", "gid"} {
			if v, ok := s.Field(k); ok {
				if n, ok := anyInt(v); ok {
					n := n
					if k == "uid" {
						req.Params.UID = &n
					} else {
						req.Params.GID = &n
					}
				}
			}
		}
		req.Container = c
	}
	req.Params.ExtraContainerArgs, req.Params.ExtraEntrypointArgs = extraC, extraE
	req.Meta.ExtraContainerArgs, req.Meta.ExtraEntrypointArgs = extraC, extraE
	cfg := shortSHA(req.ConfigBlobs)
	run := shortSHA(struct {
		Image          string
		Container      *agent.CustomContainer
		Ports          []int
		UID, GID       *int
		ExtraC, ExtraE []string
	}{req.Image, req.Container, ports, req.Params.UID, req.Params.GID, extraC, extraE})
	doc := &deployDoc{req: req, digest: "c=" + cfg + ",r=" + run}
	req.Meta.ConfigDigest = doc.digest
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return doc, nil
}

// agentError is a failed agent command, with the agent's own message (its
// stderr) rather than the SSH wrapper's.
type agentError struct {
	host string
	verb string
	code int
	msg  string
	err  error
}

func (e *agentError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.err.Error()
}
func (e *agentError) Unwrap() error { return e.err }

// portInUse reports whether the agent refused a deploy for a busy port.
func (e *agentError) portInUse() bool { return e.code == int(syscall.EADDRINUSE) }

// agentMessage extracts the agent's "Error EXXX: msg" line from stderr.
func agentMessage(stderr []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "Error E") {
			if _, msg, ok := strings.Cut(l, ": "); ok {
				return msg
			}
		}
	}
	if len(lines) > 0 {
		return strings.TrimSpace(lines[len(lines)-1])
	}
	return ""
}

// runAgent runs `orch agent <args>` on host over SSH, pushing the agent
// binary first when needed. Secrets travel only in stdin.
func (r *Reconciler) runAgent(ctx context.Context, host string, stdin []byte, timeout time.Duration, args ...string) ([]byte, error) {
	h, err := r.st.GetHost(host)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	t, err := r.target(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	cl, err := r.st.GetCluster()
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		bin, err := r.agentPath(ctx, t, cl.FSID)
		if err != nil {
			return nil, fmt.Errorf("%s: push orch agent: %w", host, err)
		}
		argv := append([]string{bin, "agent"}, args...)
		out, err := r.remote.Run(ctx, t, argv, stdin, timeout)
		if err == nil {
			return out, nil
		}
		var ee *sshexec.ExitError
		if errors.As(err, &ee) {
			if ee.Code == 127 && attempt == 0 {
				// The binary vanished (host reinstalled?): push it again.
				r.forgetAgentPath(host)
				continue
			}
			return out, &agentError{host: host, verb: args[0], code: ee.Code, msg: agentMessage(ee.Stderr), err: err}
		}
		if isConnectionError(err) {
			r.forgetAgentPath(host)
			r.noteReachability(host, err) // offline, as a refresh would mark it
		}
		return out, err
	}
}

func (r *Reconciler) agentPath(ctx context.Context, t sshexec.Target, fsid string) (string, error) {
	r.binMu.Lock()
	p, ok := r.bins[t.Name]
	r.binMu.Unlock()
	if ok {
		return p, nil
	}
	p, err := r.remote.PushBinary(ctx, t, fsid, r.agent)
	if err != nil {
		return "", err
	}
	r.binMu.Lock()
	r.bins[t.Name] = p
	r.binMu.Unlock()
	return p, nil
}

func (r *Reconciler) forgetAgentPath(host string) {
	r.binMu.Lock()
	delete(r.bins, host)
	r.binMu.Unlock()
}

// deployDaemon runs the agent's deploy with the document on stdin.
func (r *Reconciler) deployDaemon(ctx context.Context, host string, doc *deployDoc) error {
	body, err := json.Marshal(doc.req)
	if err != nil {
		return err
	}
	_, err = r.runAgent(ctx, host, body, r.opts.DeployTimeout, "deploy", "--fsid", doc.req.FSID)
	return err
}

// removeDaemon runs the agent's rm-daemon. The controller has already
// decided (and checked --force for mon/osd), so it always passes --force,
// as cephadm's mgr does.
func (r *Reconciler) removeDaemon(ctx context.Context, fsid string, d *daemonRecord) error {
	args := []string{"rm-daemon", "--fsid", fsid, "--name", d.name(), "--force"}
	if len(d.Ports) > 0 {
		ps := make([]string, len(d.Ports))
		for i, p := range d.Ports {
			ps[i] = strconv.Itoa(p)
		}
		args = append(args, "--tcp-ports", strings.Join(ps, " "))
	}
	_, err := r.runAgent(ctx, d.Hostname, nil, r.opts.DeployTimeout, args...)
	var ae *agentError
	if errors.As(err, &ae) && ae.code == int(syscall.ENOENT) {
		return nil // already gone: removal is idempotent
	}
	return err
}

// unitAction runs the agent's unit verbs for a daemon action, as
// cephadm's _daemon_action: start = reset-failed + start, restart =
// reset-failed + restart, stop = stop. reset-failed failures are ignored.
func (r *Reconciler) unitAction(ctx context.Context, fsid, host, name, action string) error {
	var verbs []string
	switch action {
	case "start":
		verbs = []string{"reset-failed", "start"}
	case "restart":
		verbs = []string{"reset-failed", "restart"}
	case "stop":
		verbs = []string{"stop"}
	default:
		return fmt.Errorf("unknown unit action %q", action)
	}
	for _, v := range verbs {
		_, err := r.runAgent(ctx, host, nil, r.opts.DeployTimeout, "unit", "--fsid", fsid, "--name", name, v)
		if err != nil && v != "reset-failed" {
			return err
		}
	}
	return nil
}
