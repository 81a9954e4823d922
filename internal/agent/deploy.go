package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/orchceph/orch/containers"
)

// Deployment types, as cephadm names them.
const (
	DeployDefault  = "DEFAULT"
	DeployRedeploy = "REDEPLOY"
	DeployReconfig = "RECONFIG"
)

// Files of a daemon's data dir (cephadm's layout, plus unit.podman.json).
const (
	fileUnitRun        = "unit.run"
	fileUnitStop       = "unit.stop"
	fileUnitPoststop   = "unit.poststop"
	fileUnitMeta       = "unit.meta"
	fileUnitImage      = "unit.image"
	fileUnitCreated    = "unit.created"
	fileUnitConfigured = "unit.configured"
	// fileUnitPodman holds the `podman run` argv of a daemon supervised by
	// podman's restart policy, so `unit start` can recreate a container
	// that was removed behind the agent's back.
	fileUnitPodman = "unit.podman.json"
)

// DeployResult is what `orch agent deploy` prints.
type DeployResult struct {
	FSID           string     `json:"fsid"`
	Name           string     `json:"name"`
	DeploymentType string     `json:"deployment_type"`
	Supervisor     Supervisor `json:"supervisor"`
	SystemdUnit    string     `json:"systemd_unit"`
	ContainerName  string     `json:"container_name"`
	// ContainerID is known when podman started the container directly.
	ContainerID string `json:"container_id,omitempty"`
	DataDir     string `json:"data_dir"`
	// Created is true when this deploy created the daemon (unit.created).
	Created bool     `json:"created"`
	Notes   []string `json:"notes,omitempty"`
}

// Deploy creates, redeploys or reconfigures one daemon, as cephadm's
// `_orch deploy`:
//
//   - RECONFIG when params.reconfig: config, keyring, files and unit.meta
//     are rewritten, units untouched; non-Ceph daemons are restarted.
//   - REDEPLOY when the daemon's unit or container is running: everything
//     is rewritten and the daemon restarted; no port check.
//   - DEFAULT otherwise: the TCP ports are tested first and a busy port
//     refuses the deploy before anything is created (*PortError).
//
// Deploying the same request twice converges to the same files and one
// running container.
func (l *Lifecycle) Deploy(ctx context.Context, req *DeployRequest) (*DeployResult, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	sup, err := l.supervisor(ctx)
	if err != nil {
		return nil, err
	}
	podman, err := l.Host.LookPath("podman")
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}
	u, err := l.Host.uname()
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}
	unlock, err := l.lockCluster(ctx, req.FSID)
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}
	defer unlock()

	d := req.daemon(u.Nodename, l.dataRoot())
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("deploy %s: %w: %w", req.Name, err, ErrInvalidArgument)
	}
	dataDir := l.dataDir(req.FSID, req.Name)
	res := &DeployResult{
		FSID: req.FSID, Name: req.Name, Supervisor: sup,
		SystemdUnit:   containers.UnitName(req.FSID, req.Name),
		ContainerName: containers.ContainerName(req.FSID, req.Name),
		DataDir:       dataDir,
	}

	// Deployment type.
	res.DeploymentType = DeployDefault
	if req.Params.Reconfig {
		res.DeploymentType = DeployReconfig
	} else {
		running, err := l.isRunning(ctx, sup, req.FSID, req.Name)
		if err != nil {
			return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
		}
		if running {
			res.DeploymentType = DeployRedeploy
		}
	}
	if res.DeploymentType == DeployDefault {
		if err := checkPorts(l.portChecker(), d.Type, req.Params.TCPPorts, req.Params.PortIPs); err != nil {
			var pe *PortError
			if !errors.As(err, &pe) || d.Type != "mgr" {
				return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
			}
			// cephadm: only a warning for mgr (standby modules may hold it).
			res.Notes = append(res.Notes, "ceph-mgr TCP port(s) "+joinInts(pe.Busy, ",")+" already in use")
		}
	}
	if res.DeploymentType == DeployReconfig && !l.Host.exists(dataDir) {
		return nil, &classError{msg: fmt.Sprintf("cannot reconfig, data path %s does not exist", dataDir), class: ErrDaemonNotFound}
	}
	res.Created = !l.Host.exists(path.Join(dataDir, fileUnitCreated))

	// Directories, config, keyring, files.
	w := &fileWriter{l: l, uid: req.Params.UID, gid: req.Params.GID}
	if err := l.writeConfig(w, req, &d); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}
	meta, err := containers.MarshalMeta(req.meta())
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}
	if err := w.write(path.Join(dataDir, fileUnitMeta), meta, 0o600); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}

	if res.DeploymentType == DeployReconfig {
		if !containers.IsCephType(d.Type) {
			// Ceph daemons re-read their config; others must restart.
			notes, err := l.unitVerb(ctx, sup, req.FSID, req.Name, d.Type, "restart")
			res.Notes = append(res.Notes, notes...)
			if err != nil {
				return nil, fmt.Errorf("deploy %s: restart after reconfig: %w", req.Name, err)
			}
		}
	} else {
		for _, ic := range req.InitContainers {
			if ic.When == RunFirstDeploy && !res.Created {
				continue
			}
			if err := l.runInitContainer(ctx, d, ic); err != nil {
				return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
			}
		}
		// Created once the first-deploy steps succeeded: a deploy that
		// fails later (the daemon does not start) must not run mkfs again.
		if err := l.markCreated(w, dataDir); err != nil {
			return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
		}
		if err := l.writeUnitFiles(w, sup, d, podman, req); err != nil {
			return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
		}
		switch sup {
		case SupervisorSystemd:
			notes, err := l.startSystemd(ctx, w, req.FSID, req.Name)
			res.Notes = append(res.Notes, notes...)
			if err != nil {
				return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
			}
		default:
			id, err := l.startPodman(ctx, req.FSID, req.Name, d.Type)
			if err != nil {
				return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
			}
			res.ContainerID = id
		}
		if err := l.clearStopped(req.FSID, req.Name); err != nil {
			return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
		}
	}

	if err := l.markCreated(w, dataDir); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}
	if err := w.write(path.Join(dataDir, fileUnitConfigured), []byte("mtime is time we were last configured\n"), 0o600); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", req.Name, err)
	}
	return res, nil
}

// markCreated writes unit.created unless it exists: its mtime is when the
// daemon was first deployed.
func (l *Lifecycle) markCreated(w *fileWriter, dataDir string) error {
	p := path.Join(dataDir, fileUnitCreated)
	if l.Host.exists(p) {
		return nil
	}
	return w.write(p, []byte("mtime is time the daemon deployment was created\n"), 0o600)
}

// isRunning is cephadm's REDEPLOY test: the unit is active or the
// container runs.
func (l *Lifecycle) isRunning(ctx context.Context, sup Supervisor, fsid, name string) (bool, error) {
	if sup == SupervisorSystemd {
		out, _ := l.Host.run(ctx, "systemctl", "is-active", containers.UnitName(fsid, name))
		if strings.TrimSpace(string(out)) == "active" {
			return true, nil
		}
	}
	cs, err := l.Host.podmanPS(ctx)
	if err != nil {
		return false, err
	}
	c := indexContainers(cs).daemon(fsid, name)
	return c != nil && c.running(), nil
}

// writeConfig creates the cluster and daemon dirs and writes config,
// keyring, files and custom config files (cephadm's create_daemon_dirs).
func (l *Lifecycle) writeConfig(w *fileWriter, req *DeployRequest, d *containers.Daemon) error {
	cluster := l.clusterDir(req.FSID)
	dataDir := l.dataDir(req.FSID, req.Name)
	for _, dir := range []string{cluster, path.Join(cluster, "crash"), path.Join(cluster, "crash", "posted")} {
		if err := w.mkdir(dir, 0o700, false); err != nil {
			return err
		}
	}
	if err := w.mkdir(dataDir, 0o700, true); err != nil {
		return err
	}
	if containers.IsCephType(d.Type) {
		// Mount sources of every Ceph daemon; /var/run is a tmpfs, so
		// unit.run also recreates it (see unitRunScript).
		for _, dir := range []string{path.Join(containers.LogRoot, req.FSID), path.Join(containers.RunRoot, req.FSID)} {
			if err := w.mkdir(dir, 0o770, true); err != nil {
				return err
			}
		}
	}
	if c := req.Container; c != nil {
		for _, sub := range c.Dirs {
			if err := w.mkdir(path.Join(dataDir, sub), 0o700, true); err != nil {
				return err
			}
		}
		// Relative volume mount sources live in the data dir; podman
		// refuses a bind whose source is missing.
		for host := range c.VolumeMounts {
			if _, isFile := req.ConfigBlobs.Files[host]; !path.IsAbs(host) && !isFile && !l.Host.exists(path.Join(dataDir, host)) {
				if err := w.mkdir(path.Join(dataDir, host), 0o700, true); err != nil {
					return err
				}
			}
		}
	}
	blobs := req.ConfigBlobs
	if blobs.Config != "" {
		if err := w.write(path.Join(dataDir, "config"), []byte(blobs.Config), 0o600); err != nil {
			return err
		}
	}
	if blobs.Keyring != "" {
		if err := w.write(path.Join(dataDir, "keyring"), []byte(blobs.Keyring), 0o600); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(blobs.Files) {
		p := path.Join(dataDir, name)
		if err := w.mkdir(path.Dir(p), 0o700, true); err != nil {
			return err
		}
		if err := w.write(p, []byte(blobs.Files[name]), 0o600); err != nil {
			return err
		}
	}
	if len(blobs.CustomConfigFiles) > 0 {
		ccDir := l.customConfigDir(req.FSID, req.Name)
		if err := w.mkdir(path.Dir(ccDir), 0o700, false); err != nil {
			return err
		}
		if err := w.mkdir(ccDir, 0o700, true); err != nil {
			return err
		}
		for _, cc := range blobs.CustomConfigFiles {
			if err := w.write(path.Join(ccDir, path.Base(cc.MountPath)), []byte(cc.Content), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeUnitFiles writes unit.run, unit.stop, unit.poststop, unit.image and,
// for the podman supervisor, unit.podman.json.
func (l *Lifecycle) writeUnitFiles(w *fileWriter, sup Supervisor, d containers.Daemon, podman string, req *DeployRequest) error {
	dataDir := l.dataDir(d.FSID, d.Name())
	run, err := l.unitRunScript(d, podman, req.Params.UID, req.Params.GID)
	if err != nil {
		return err
	}
	argv, err := l.podmanRunArgv(d)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{fileUnitRun, []byte(run)},
		{fileUnitStop, []byte(containers.UnitStop(d, podman))},
		{fileUnitPoststop, []byte(containers.UnitPoststop(d))},
		{fileUnitImage, []byte(d.Image + "\n")},
	}
	for _, f := range files {
		if err := w.write(path.Join(dataDir, f.name), f.data, 0o600); err != nil {
			return err
		}
	}
	if sup != SupervisorPodman {
		return nil
	}
	b, err := json.Marshal(argv)
	if err != nil {
		return err
	}
	return w.write(path.Join(dataDir, fileUnitPodman), append(b, '\n'), 0o600)
}

// unitRunScript is containers.UnitRun with cephadm's pre-start step for
// Ceph daemons: recreate /var/run/ceph/<fsid> (a tmpfs) before the run.
func (l *Lifecycle) unitRunScript(d containers.Daemon, podman string, uid, gid *int) (string, error) {
	s, err := containers.UnitRun(d, podman)
	if err != nil {
		return "", err
	}
	if !containers.IsCephType(d.Type) {
		return s, nil
	}
	pre := "install -d -m0770"
	if uid != nil && gid != nil {
		pre += fmt.Sprintf(" -o %d -g %d", *uid, *gid)
	}
	pre += " " + containers.Quote(path.Join(containers.RunRoot, d.FSID)) + "\n"
	first, rest, _ := strings.Cut(s, "\n")
	return first + "\n" + pre + rest, nil
}

// podmanRunArgv is the `podman run` argv (without "podman") of the
// restart-policy supervisor, with mount sources moved under DataRoot when
// it is not /var/lib/ceph (containers renders cephadm's fixed paths).
func (l *Lifecycle) podmanRunArgv(d containers.Daemon) ([]string, error) {
	argv, err := containers.RunArgv(d, containers.RestartPolicy)
	if err != nil {
		return nil, err
	}
	return rebaseVolumes(argv, containers.DataRoot, l.dataRoot()), nil
}

// rebaseVolumes rewrites the sources of -v arguments under from to to.
func rebaseVolumes(argv []string, from, to string) []string {
	if from == to {
		return argv
	}
	out := append([]string(nil), argv...)
	for i := 1; i < len(out); i++ {
		if out[i-1] == "-v" && strings.HasPrefix(out[i], from+"/") {
			out[i] = to + strings.TrimPrefix(out[i], from)
		}
	}
	return out
}

// startPodman replaces any container of the daemon with a fresh detached
// one under podman's restart policy and returns its id.
func (l *Lifecycle) startPodman(ctx context.Context, fsid, name, daemonType string) (string, error) {
	b, err := os.ReadFile(l.fs(path.Join(l.dataDir(fsid, name), fileUnitPodman)))
	if err != nil {
		return "", fmt.Errorf("read run command: %w", err)
	}
	var argv []string
	if err := json.Unmarshal(b, &argv); err != nil || len(argv) == 0 || argv[0] != "run" {
		return "", fmt.Errorf("%s: not a podman run command", fileUnitPodman)
	}
	if err := l.Host.podmanRemove(ctx, containerNames(fsid, name, daemonType)...); err != nil {
		return "", err
	}
	out, err := l.Host.run(ctx, append([]string{"podman"}, argv...)...)
	if err != nil {
		return "", fmt.Errorf("start container %s: %w", containers.ContainerName(fsid, name), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// startSystemd installs the units and (re)starts the daemon's unit, as
// cephadm's deploy_daemon_units: the targets are enabled and started only
// when they are new (starting an existing cluster target would also start
// every daemon an operator stopped).
func (l *Lifecycle) startSystemd(ctx context.Context, w *fileWriter, fsid, name string) ([]string, error) {
	var notes []string
	newTarget := map[string]bool{}
	for _, f := range []struct{ name, content string }{
		{"ceph.target", cephTarget},
		{containers.TargetName(fsid), containers.TargetUnit(fsid)},
		{containers.TemplateUnitName(fsid), containers.TemplateUnit(fsid)},
	} {
		p := path.Join(containers.UnitDir, f.name)
		old, err := os.ReadFile(l.fs(p))
		if err == nil && string(old) == f.content {
			continue
		}
		newTarget[f.name] = err != nil
		if err := w.mkdir(containers.UnitDir, 0o755, false); err != nil {
			return nil, err
		}
		if err := w.writeAs(p, []byte(f.content), 0o644, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := l.Host.systemctl(ctx, "daemon-reload"); err != nil {
		return nil, err
	}
	if newTarget["ceph.target"] {
		// cephadm disables first: a packaged ceph.target (/lib/systemd)
		// makes older systemd fail the enable with EEXIST.
		if err := l.Host.systemctl(ctx, "disable", "ceph.target"); err != nil {
			notes = append(notes, err.Error())
		}
		for _, verb := range []string{"enable", "start"} {
			if err := l.Host.systemctl(ctx, verb, "ceph.target"); err != nil {
				return notes, err
			}
		}
	}
	if t := containers.TargetName(fsid); newTarget[t] {
		for _, verb := range []string{"enable", "start"} {
			if err := l.Host.systemctl(ctx, verb, t); err != nil {
				return notes, err
			}
		}
	}
	unit := containers.UnitName(fsid, name)
	// A stopped or never-started unit makes these fail; cephadm ignores it.
	if err := l.Host.systemctl(ctx, "stop", unit); err != nil {
		notes = append(notes, err.Error())
	}
	if err := l.Host.systemctl(ctx, "reset-failed", unit); err != nil {
		notes = append(notes, err.Error())
	}
	if err := l.Host.systemctl(ctx, "enable", unit); err != nil {
		return notes, err
	}
	if err := l.Host.systemctl(ctx, "start", unit); err != nil {
		return notes, err
	}
	return notes, nil
}

// runInitContainer runs one one-shot container to completion.
func (l *Lifecycle) runInitContainer(ctx context.Context, d containers.Daemon, ic InitContainer) error {
	argv := l.initContainerArgv(d, ic)
	cname := containers.ContainerName(d.FSID, d.Name()) + "-" + ic.Name
	if err := l.Host.podmanRemove(ctx, cname); err != nil {
		return err
	}
	if _, err := l.Host.run(ctx, append([]string{"podman"}, argv...)...); err != nil {
		return fmt.Errorf("init container %s: %w", ic.Name, err)
	}
	return nil
}

// initContainerArgv renders `podman run --rm` for an init container
// (without "podman"): host network and IPC like the daemon, the daemon's
// mounts when asked, then its own.
func (l *Lifecycle) initContainerArgv(d containers.Daemon, ic InitContainer) []string {
	image := ic.Image
	if image == "" {
		image = d.Image
	}
	a := []string{"run", "--rm", "--ipc=host", "--net=host", "--name", containers.ContainerName(d.FSID, d.Name()) + "-" + ic.Name}
	if ic.Entrypoint != "" {
		a = append(a, "--entrypoint", ic.Entrypoint)
	}
	if ic.Privileged {
		a = append(a, "--privileged", "--group-add=disk")
	}
	a = append(a, "-e", "CONTAINER_IMAGE="+image, "-e", "NODE_NAME="+d.Hostname)
	for _, e := range ic.Envs {
		a = append(a, "-e", e)
	}
	var ms []containers.Mount
	if ic.DefaultMounts {
		ms = append(d.DefaultMounts(), d.Mounts...)
	}
	ms = append(ms, mountsFrom(ic.VolumeMounts, l.dataDir(d.FSID, d.Name()))...)
	for _, m := range ms {
		v := m.Source + ":" + m.Target
		if m.Options != "" {
			v += ":" + m.Options
		}
		a = append(a, "-v", v)
	}
	a = append(a, "--label", "ceph.fsid="+d.FSID, "--label", "ceph.daemon="+d.Name(), image)
	a = append(a, ic.Args...)
	return rebaseVolumes(a, containers.DataRoot, l.dataRoot())
}
