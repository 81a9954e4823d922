package orchestrator

// Talking to Ceph (docs/talking-to-ceph.md): the controller runs the `ceph`
// CLI of the cluster's image in a throwaway container on an _admin host,
// over SSH, with /etc/ceph (ceph.conf and the client.admin keyring) bound
// read-only. cephadm does the same for every intermediate step of its
// bootstrap. No key crosses an argv: the admin keyring is read from the
// host, and anything secret a command prints comes back on stdout only.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

// Label and paths of the hosts the controller runs `ceph` on.
const (
	// AdminLabel marks hosts that get /etc/ceph/ceph.conf and the
	// client.admin keyring (cephadm's SpecialHostLabels.ADMIN).
	AdminLabel = "_admin"
	// CephConfPath and AdminKeyringPath are where an _admin host keeps
	// the client configuration (cephadm's defaults).
	CephConfPath     = "/etc/ceph/ceph.conf"
	AdminKeyringPath = "/etc/ceph/ceph.client.admin.keyring"
)

const (
	// cephCmdTimeout bounds one `ceph` command over SSH (the container's
	// start is a fraction of a second of it). Commands served by the mgr
	// (osd ok-to-stop, osd safe-to-destroy) wait for a mgr without limit,
	// so this bound is what ends them when none is available.
	cephCmdTimeout = 2 * time.Minute
	// cephConnectTimeout is the CLI's own --connect-timeout (seconds).
	cephConnectTimeout = 30
)

// ErrNoAdminHost means no reachable host carries the _admin label, so no
// `ceph` command can run.
var ErrNoAdminHost = fmt.Errorf("no reachable host with the %s label to run ceph commands on (bootstrap the cluster, or label a host that has /etc/ceph/ceph.conf and the client.admin keyring): %w", AdminLabel, api.ErrUnavailable)

// CephError is a `ceph` command that ran and failed: the CLI exits with the
// errno of the failure (EINVAL 22, ENOENT 2, EBUSY 16, ...) and explains it
// on stderr ("Error EINVAL: ...").
type CephError struct {
	Host string
	// Args are the ceph arguments (never secrets).
	Args []string
	// Code is the CLI's exit status.
	Code int
	// Message is the CLI's explanation (its "Error E...:" line, else its
	// last line of stderr).
	Message string
}

func (e *CephError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = fmt.Sprintf("exit code %d", e.Code)
	}
	return fmt.Sprintf("%s: ceph %s: %s", e.Host, strings.Join(e.Args, " "), msg)
}

// Errno is the CLI's exit status read as an errno, so API callers see
// ENOENT for a missing entity and EBUSY for "not ok to stop".
func (e *CephError) Errno() syscall.Errno {
	if e.Code > 0 && e.Code < 134 {
		return syscall.Errno(e.Code)
	}
	return syscall.EIO
}

// cephCall is one `ceph` invocation.
type cephCall struct {
	// host runs it; empty means the first reachable _admin host.
	host string
	// image is the container image; empty means the cluster's.
	image string
	// stdin, when set, is passed to the CLI (`-i -`) with podman run -i.
	stdin   []byte
	timeout time.Duration
	// connectTimeout is --connect-timeout in seconds (0: the default).
	connectTimeout int
}

// CephCommand runs `ceph ARGS...` on an _admin host with the cluster's
// image and returns its stdout. Add "--format", "json" for JSON output
// (CephJSON does that and decodes it). A failure of the command itself is
// a *CephError carrying the CLI's errno.
func (c *Controller) CephCommand(ctx context.Context, args ...string) ([]byte, error) {
	return c.ceph(ctx, cephCall{}, args...)
}

// CephJSON runs `ceph ARGS... --format json` and decodes its output into
// out.
func (c *Controller) CephJSON(ctx context.Context, out any, args ...string) error {
	return c.cephJSON(ctx, cephCall{}, out, args...)
}

func (c *Controller) cephJSON(ctx context.Context, call cephCall, out any, args ...string) error {
	b, err := c.ceph(ctx, call, append(append([]string(nil), args...), "--format", "json")...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("ceph %s: decode output: %w", strings.Join(args, " "), err)
	}
	return nil
}

// ceph runs one command, trying the _admin hosts in name order until one
// can be reached (when call.host is empty).
func (c *Controller) ceph(ctx context.Context, call cephCall, args ...string) ([]byte, error) {
	cl, err := c.st.GetCluster()
	if err != nil {
		return nil, err
	}
	if call.image == "" {
		call.image = cl.ContainerImage
	}
	if call.image == "" {
		call.image = DefaultCephImage
	}
	var hosts []store.Host
	if call.host != "" {
		h, err := c.getHost(call.host)
		if err != nil {
			return nil, err
		}
		hosts = []store.Host{h}
	} else if hosts, err = c.adminHosts(); err != nil {
		return nil, err
	}
	var errs []error
	for _, h := range hosts {
		out, err := c.cephOn(ctx, h, call, args...)
		if err == nil || !cephUnreachable(err) || call.host != "" {
			return out, err
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrNoAdminHost, errors.Join(errs...))
}

// adminHosts returns the _admin hosts that are neither offline nor in
// maintenance, sorted by name.
func (c *Controller) adminHosts() ([]store.Host, error) {
	hs, err := c.st.ListHosts()
	if err != nil {
		return nil, err
	}
	var out []store.Host
	for _, h := range hs {
		if h.Status == "offline" || h.Status == "maintenance" {
			continue
		}
		for _, l := range h.Labels {
			if l == AdminLabel {
				out = append(out, h)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, ErrNoAdminHost
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// cephUnreachable reports a failure to reach the host at all (as opposed to
// a command that ran and failed).
func cephUnreachable(err error) bool {
	return errors.Is(err, sshexec.ErrUnreachable) || errors.Is(err, sshexec.ErrHostKeyMismatch) || errors.Is(err, sshexec.ErrAuth)
}

// cephArgv is the podman command line of one ceph call: a named --rm
// container (so a timed-out call can be removed), --init (the CLI as PID 1
// would ignore SIGTERM), the host network, /etc/ceph read-only.
func cephArgv(name, image string, interactive bool, connectTimeout int, args []string) []string {
	argv := []string{"podman", "run", "--rm", "--init", "--net=host", "--ipc=host", "--name", name}
	if interactive {
		argv = append(argv, "-i")
	}
	argv = append(argv, "-e", "CONTAINER_IMAGE="+image, "-v", "/etc/ceph:/etc/ceph:ro,z",
		"--entrypoint", "/usr/bin/ceph", image, "--connect-timeout", strconv.Itoa(connectTimeout))
	return append(argv, args...)
}

// cephOn runs the command on host h.
func (c *Controller) cephOn(ctx context.Context, h store.Host, call cephCall, args ...string) ([]byte, error) {
	t, err := c.target(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.Name, err)
	}
	timeout := call.timeout
	if timeout <= 0 {
		timeout = cephCmdTimeout
	}
	ct := call.connectTimeout
	if ct <= 0 {
		ct = cephConnectTimeout
	}
	name := "orch-ceph-" + cephRandomHex(6)
	argv := cephArgv(name, call.image, call.stdin != nil, ct, args)
	out, err := c.remote.Run(ctx, t, argv, call.stdin, timeout)
	if err == nil {
		return out, nil
	}
	var ee *sshexec.ExitError
	switch {
	case ctx.Err() != nil || errors.Is(err, sshexec.ErrTimeout):
		// The container may outlive the SSH session (a non-PTY session's
		// process is not killed with it): remove it, best effort.
		c.removeContainer(t, name)
		return nil, fmt.Errorf("%s: ceph %s: %w", h.Name, strings.Join(args, " "), err)
	case errors.As(err, &ee) && ee.Code >= 125 && ee.Code <= 127:
		// podman's own failures (125: podman, 126/127: entrypoint).
		return nil, fmt.Errorf("%s: podman run %s for ceph %s: %s: %w", h.Name, call.image, strings.Join(args, " "), cephLastLine(ee.Stderr), err)
	case errors.As(err, &ee):
		return out, &CephError{Host: h.Name, Args: args, Code: ee.Code, Message: cephMessage(ee.Stderr)}
	}
	return nil, fmt.Errorf("%s: ceph %s: %w", h.Name, strings.Join(args, " "), err)
}

// removeContainer removes a leftover container with a fresh, short context
// (the caller's may be cancelled already).
func (c *Controller) removeContainer(t sshexec.Target, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.remote.Run(ctx, t, []string{"podman", "rm", "-f", "-i", name}, nil, 30*time.Second); err != nil {
		c.log.Warn().Str("host", t.Name).Str("container", name).Err(err).Msg("remove timed-out ceph container")
	}
}

// cephMessage extracts the CLI's explanation: its last "Error E...:" line
// (without the prefix), else its last non-empty line.
func cephMessage(stderr []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if rest, ok := strings.CutPrefix(l, "Error E"); ok {
			if _, msg, ok := strings.Cut(rest, ": "); ok {
				return msg
			}
		}
	}
	return cephLastLine(stderr)
}

func cephLastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func cephRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// daemonCaps are cephadm's caps per daemon type (`auth get-or-create` in
// each service's prepare_create). nfs caps name the service id: the part
// of the daemon id before its first dot.
func daemonCaps(daemonType, id string) ([]string, error) {
	switch daemonType {
	case "mgr":
		return []string{"mon", "profile mgr", "osd", "allow *", "mds", "allow *"}, nil
	case "osd":
		return []string{"mon", "allow profile osd", "mgr", "allow profile osd", "osd", "allow *"}, nil
	case "mds":
		return []string{"mon", "profile mds", "osd", "allow rw tag cephfs *=*", "mds", "allow"}, nil
	case "rgw":
		return []string{"mon", "allow *", "mgr", "allow rw", "osd", "allow rwx tag rgw *=*"}, nil
	case "crash":
		return []string{"mon", "profile crash", "mgr", "profile crash"}, nil
	case "rbd-mirror":
		return []string{"mon", "profile rbd-mirror", "osd", "profile rbd"}, nil
	case "cephfs-mirror":
		return []string{"mon", "profile cephfs-mirror", "mds", "allow r",
			"osd", "allow rw tag cephfs metadata=*, allow r tag cephfs data=*", "mgr", "allow r"}, nil
	case "nfs":
		svc, _, _ := strings.Cut(id, ".")
		return []string{"mon", "allow r", "osd", "allow rw pool=.nfs namespace=" + svc}, nil
	case "ceph-exporter":
		return []string{"mon", "profile ceph-exporter", "mon", "allow r", "mgr", "allow r", "osd", "allow r"}, nil
	case "iscsi":
		return []string{"mon", `profile rbd, allow command "osd blocklist", allow command "config-key get" with "key" prefix "iscsi/"`,
			"mgr", `allow command "service status"`, "osd", "allow rwx"}, nil
	}
	return nil, invalidf("no Ceph key for daemon type %q", daemonType)
}

// DaemonEntity is the auth entity a daemon runs as: mon → "mon." (all
// monitors share one key), mgr/osd/mds → "<type>.<id>", crash →
// "client.crash.<host>", the others "client.<type>.<id>".
func DaemonEntity(daemonType, id, host string) string {
	switch daemonType {
	case "mon":
		return "mon."
	case "mgr", "osd", "mds":
		return daemonType + "." + id
	case "crash":
		return "client.crash." + host
	}
	return "client." + daemonType + "." + id
}

// DaemonKeyring returns the keyring a daemon is deployed with: for a mon
// the shared "mon." key (`auth get mon.`), for the others the daemon's own
// entity created (or fetched) with cephadm's caps for its type. When the
// entity exists with other caps, they are updated first (cephadm's
// get_keyring_with_caps). The keyring holds the entity and its key only.
func (c *Controller) DaemonKeyring(ctx context.Context, daemonType, id, host string) (string, error) {
	return c.daemonKeyring(ctx, cephCall{}, daemonType, id, host)
}

func (c *Controller) daemonKeyring(ctx context.Context, call cephCall, daemonType, id, host string) (string, error) {
	entity := DaemonEntity(daemonType, id, host)
	if daemonType == "mon" {
		out, err := c.ceph(ctx, call, "auth", "get", entity)
		if err != nil {
			return "", err
		}
		return keyringOf(entity, out)
	}
	caps, err := daemonCaps(daemonType, id)
	if err != nil {
		return "", err
	}
	return c.keyringWithCaps(ctx, call, entity, caps)
}

// keyringWithCaps is cephadm's get_keyring_with_caps.
func (c *Controller) keyringWithCaps(ctx context.Context, call cephCall, entity string, caps []string) (string, error) {
	out, err := c.ceph(ctx, call, append([]string{"auth", "get-or-create", entity}, caps...)...)
	var ce *CephError
	if errors.As(err, &ce) && ce.Errno() == syscall.EINVAL {
		// The entity exists with other caps: set ours, then fetch it.
		if _, err := c.ceph(ctx, call, append([]string{"auth", "caps", entity}, caps...)...); err != nil {
			c.log.Warn().Str("entity", entity).Err(err).Msg("unable to update caps")
		}
		out, err = c.ceph(ctx, call, "auth", "get", entity)
	}
	if err != nil {
		return "", err
	}
	return keyringOf(entity, out)
}

// keyringOf strips `auth get`/get-or-create output down to entity and key.
func keyringOf(entity string, out []byte) (string, error) {
	for _, e := range parseKeyring(string(out)) {
		if e.Entity == entity && e.Key != "" {
			return minimalKeyring(entity, e.Key), nil
		}
	}
	return "", fmt.Errorf("ceph auth: no key for %s in the answer", entity)
}

// protectedEntities are never removed by RemoveDaemonKey.
func protectedEntity(entity string) bool {
	return entity == "mon." || entity == "client.admin" || strings.HasPrefix(entity, "client.bootstrap-")
}

// RemoveDaemonKey deletes a removed daemon's auth entity (cephadm's
// post_remove). A missing entity is a success. The cluster's own keys
// (mon., client.admin, client.bootstrap-*) are refused.
func (c *Controller) RemoveDaemonKey(ctx context.Context, entity string) error {
	if protectedEntity(entity) {
		return invalidf("refusing to remove the cluster key %s", entity)
	}
	_, err := c.ceph(ctx, cephCall{}, "auth", "rm", entity)
	var ce *CephError
	if errors.As(err, &ce) && ce.Errno() == syscall.ENOENT {
		return nil
	}
	return err
}

// MinimalConfig is `ceph config generate-minimal-conf`: the fsid and
// mon_host every daemon and client needs; the rest lives in the monitors'
// configuration database.
func (c *Controller) MinimalConfig(ctx context.Context) (string, error) {
	return c.minimalConfig(ctx, cephCall{})
}

func (c *Controller) minimalConfig(ctx context.Context, call cephCall) (string, error) {
	out, err := c.ceph(ctx, call, "config", "generate-minimal-conf")
	if err != nil {
		return "", err
	}
	if !strings.Contains(string(out), "mon_host") {
		return "", fmt.Errorf("ceph config generate-minimal-conf: no mon_host in %q", out)
	}
	return string(out), nil
}

// ConfigSet is `ceph config set WHO NAME VALUE`.
func (c *Controller) ConfigSet(ctx context.Context, who, name, value string) error {
	_, err := c.ceph(ctx, cephCall{}, "config", "set", who, name, value)
	return err
}

// QuorumStatus is the part of `ceph quorum_status` the controller reads.
type QuorumStatus struct {
	QuorumNames []string `json:"quorum_names"`
	Leader      string   `json:"quorum_leader_name"`
	MonMap      struct {
		Epoch int `json:"epoch"`
		Mons  []struct {
			Rank        int    `json:"rank"`
			Name        string `json:"name"`
			PublicAddrs struct {
				AddrVec []struct {
					Type string `json:"type"`
					Addr string `json:"addr"`
				} `json:"addrvec"`
			} `json:"public_addrs"`
		} `json:"mons"`
	} `json:"monmap"`
}

// InQuorum reports whether mon id is in the quorum.
func (q *QuorumStatus) InQuorum(id string) bool {
	for _, n := range q.QuorumNames {
		if n == id {
			return true
		}
	}
	return false
}

// QuorumStatus is `ceph quorum_status`.
func (c *Controller) QuorumStatus(ctx context.Context) (*QuorumStatus, error) {
	var q QuorumStatus
	if err := c.CephJSON(ctx, &q, "quorum_status"); err != nil {
		return nil, err
	}
	return &q, nil
}

// OKToStop is the answer of `<type> ok-to-stop`: whether the daemons can
// stop now, and the monitors' reason when not. Not being ok is a result,
// not an error.
type OKToStop struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// OKToStop asks the cluster whether mon, osd or mds daemons (by id) can be
// stopped (cephadm's ok_to_stop; the osd check is served by the mgr). The
// CLI answers EBUSY when they cannot.
func (c *Controller) OKToStop(ctx context.Context, daemonType string, ids ...string) (OKToStop, error) {
	switch daemonType {
	case "mon", "osd", "mds":
	default:
		return OKToStop{}, invalidf("ok-to-stop is asked of mon, osd and mds daemons, not %s", daemonType)
	}
	if len(ids) == 0 {
		return OKToStop{OK: true}, nil
	}
	_, err := c.CephCommand(ctx, append([]string{daemonType, "ok-to-stop"}, ids...)...)
	return okResult(err)
}

// okResult turns an EBUSY (or EAGAIN) answer into a "not ok" result.
func okResult(err error) (OKToStop, error) {
	var ce *CephError
	if errors.As(err, &ce) && (ce.Errno() == syscall.EBUSY || ce.Errno() == syscall.EAGAIN) {
		return OKToStop{OK: false, Reason: ce.Message}, nil
	}
	if err != nil {
		return OKToStop{}, err
	}
	return OKToStop{OK: true}, nil
}

// SafeToDestroy is `ceph osd safe-to-destroy IDS` (served by the mgr): OK
// when no data would be lost by destroying the OSDs.
func (c *Controller) SafeToDestroy(ctx context.Context, osdIDs ...int) (OKToStop, error) {
	if len(osdIDs) == 0 {
		return OKToStop{OK: true}, nil
	}
	args := []string{"osd", "safe-to-destroy"}
	for _, id := range osdIDs {
		args = append(args, strconv.Itoa(id))
	}
	_, err := c.CephCommand(ctx, args...)
	return okResult(err)
}

// OSDTreeNode is one node of `ceph osd tree`.
type OSDTreeNode struct {
	ID       int     `json:"id"`
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	TypeID   int     `json:"type_id"`
	Children []int   `json:"children,omitempty"`
	Status   string  `json:"status,omitempty"`
	Reweight float64 `json:"reweight,omitempty"`
	// CrushWeight is the OSD's CRUSH weight.
	CrushWeight float64 `json:"crush_weight,omitempty"`
	DeviceClass string  `json:"device_class,omitempty"`
}

// OSDTree is `ceph osd tree`.
type OSDTree struct {
	Nodes []OSDTreeNode `json:"nodes"`
	Stray []OSDTreeNode `json:"stray"`
}

// HostOf returns the name of the CRUSH host bucket holding OSD id ("" when
// the OSD is in no host bucket).
func (t *OSDTree) HostOf(id int) string {
	for _, n := range t.Nodes {
		if n.Type != "host" {
			continue
		}
		for _, ch := range n.Children {
			if ch == id {
				return n.Name
			}
		}
	}
	return ""
}

// OSDTree is `ceph osd tree`.
func (c *Controller) OSDTree(ctx context.Context) (*OSDTree, error) {
	var t OSDTree
	if err := c.CephJSON(ctx, &t, "osd", "tree"); err != nil {
		return nil, err
	}
	return &t, nil
}

// CephHealth is the part of `ceph status` the controller reads.
type CephHealth struct {
	FSID   string `json:"fsid"`
	Health struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Severity string `json:"severity"`
			Summary  struct {
				Message string `json:"message"`
			} `json:"summary"`
		} `json:"checks"`
	} `json:"health"`
	QuorumNames []string `json:"quorum_names"`
	MonMap      struct {
		NumMons int `json:"num_mons"`
	} `json:"monmap"`
	MgrMap struct {
		Available  bool `json:"available"`
		NumStandby int  `json:"num_standbys"`
	} `json:"mgrmap"`
	OSDMap struct {
		NumOSDs   int `json:"num_osds"`
		NumUpOSDs int `json:"num_up_osds"`
		NumInOSDs int `json:"num_in_osds"`
	} `json:"osdmap"`
}

// CephStatus is `ceph status`.
func (c *Controller) CephStatus(ctx context.Context) (*CephHealth, error) {
	var s CephHealth
	if err := c.CephJSON(ctx, &s, "status"); err != nil {
		return nil, err
	}
	return &s, nil
}

// WriteAdminFiles writes the minimal ceph.conf (0644) and the client.admin
// keyring (0600, from the store) into /etc/ceph on host, as cephadm does
// for hosts labelled _admin. The keyring travels on stdin only.
func (c *Controller) WriteAdminFiles(ctx context.Context, host string) error {
	conf, err := c.MinimalConfig(ctx)
	if err != nil {
		return err
	}
	keyring, err := c.st.GetSecret(store.KeyringSecret("client.admin"))
	if err != nil {
		return fmt.Errorf("client.admin keyring: %w", err)
	}
	h, err := c.getHost(host)
	if err != nil {
		return err
	}
	return c.writeAdminFiles(ctx, h, conf, []byte(keyring))
}

func (c *Controller) writeAdminFiles(ctx context.Context, h store.Host, conf string, keyring []byte) error {
	if err := c.writeHostFile(ctx, h, CephConfPath, "0644", []byte(conf)); err != nil {
		return err
	}
	return c.writeHostFile(ctx, h, AdminKeyringPath, "0600", keyring)
}

// writeFileScript writes stdin to $1 with mode $2 atomically (a temporary
// file in the same directory, then rename). mktemp creates the file 0600,
// so a secret is never readable by others, even before the chmod; a
// missing directory is created 0755 (as /etc/ceph is). It is constant:
// paths and modes are arguments, never spliced into the script.
const writeFileScript = `set -eu
umask 022
dest=$1
dir=$(dirname "$dest")
mkdir -p "$dir"
tmp=$(mktemp "$dir/.orch.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat >"$tmp"
chmod "$2" "$tmp"
mv -f "$tmp" "$dest"
trap - EXIT`

// writeHostFile writes data (which may be secret: it goes on stdin) to path
// on the host, owned by root.
func (c *Controller) writeHostFile(ctx context.Context, h store.Host, path, mode string, data []byte) error {
	t, err := c.target(h)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	if data == nil {
		data = []byte{}
	}
	if _, err := c.remote.Run(ctx, t, []string{"sh", "-c", writeFileScript, "sh", path, mode}, data, c.checkTO); err != nil {
		return fmt.Errorf("%s: write %s: %w", h.Name, path, err)
	}
	return nil
}

// removeAdminFilesScript removes the admin files when ceph.conf names the
// fsid ($1), as cephadm's rm-cluster does, so another cluster's files are
// left alone.
const removeAdminFilesScript = `set -eu
if grep -qF -- "$1" /etc/ceph/ceph.conf 2>/dev/null; then
  rm -f /etc/ceph/ceph.conf /etc/ceph/ceph.client.admin.keyring
fi`

func (c *Controller) removeAdminFiles(ctx context.Context, h store.Host, fsid string) error {
	t, err := c.target(h)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	if _, err := c.remote.Run(ctx, t, []string{"sh", "-c", removeAdminFilesScript, "sh", fsid}, nil, c.checkTO); err != nil {
		return fmt.Errorf("%s: remove %s: %w", h.Name, CephConfPath, err)
	}
	return nil
}
