package orchestrator

// orch bootstrap (docs/bootstrap.md): cephadm's bootstrap steps run by the
// controller against a remote host. Bootstrap validates the request and
// answers at once; the attempt runs as an operation of kind "bootstrap"
// that clients poll (BootstrapStatus), so it neither dies with a client
// that goes away nor holds an HTTP request open for a minute.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

const (
	// opBootstrap is the kind of a bootstrap operation.
	opBootstrap = "bootstrap"
	// bootstrapSetting holds the bootstrapRecord.
	bootstrapSetting = "orch/bootstrap"
	// bootstrapTimeout bounds one attempt.
	bootstrapTimeout = 30 * time.Minute
)

// Record states.
const (
	bootRecRunning  = "running"
	bootRecFailed   = "failed"
	bootRecComplete = "complete"
)

// bootstrapRecord is what the store keeps about the cluster's bootstrap:
// the marker that refuses a second one, and what a failed or interrupted
// attempt left on its host so that the next attempt can remove it.
type bootstrapRecord struct {
	State          string `json:"state"`
	Operation      uint64 `json:"operation"`
	FSID           string `json:"fsid"`
	Host           string `json:"host,omitempty"`
	Addr           string `json:"addr,omitempty"`
	MonIP          string `json:"mon_ip"`
	MonID          string `json:"mon_id,omitempty"`
	MgrID          string `json:"mgr_id,omitempty"`
	PublicNetwork  string `json:"public_network,omitempty"`
	ClusterNetwork string `json:"cluster_network,omitempty"`
	Image          string `json:"image"`
	CephVersion    string `json:"ceph_version,omitempty"`
	UID            int    `json:"uid,omitempty"`
	GID            int    `json:"gid,omitempty"`
	// Daemons are the daemons this attempt deployed (or started to), in
	// order; cleanup removes them in reverse.
	Daemons []string `json:"daemons,omitempty"`
	// AdminFiles is set once /etc/ceph files were written on Host.
	AdminFiles bool `json:"admin_files,omitempty"`
	// Leftovers are what earlier failed or interrupted attempts left on
	// their hosts; this attempt removes them first.
	Leftovers []bootLeftovers `json:"leftovers,omitempty"`
	Started   time.Time       `json:"started"`
	Finished  time.Time       `json:"finished,omitzero"`
}

// bootLeftovers is what one attempt left on one host.
type bootLeftovers struct {
	FSID       string   `json:"fsid"`
	Host       string   `json:"host"`
	Daemons    []string `json:"daemons,omitempty"`
	AdminFiles bool     `json:"admin_files,omitempty"`
}

// leftovers returns what the attempt r (failed or interrupted) and the
// attempts before it left behind.
func (r *bootstrapRecord) leftovers() []bootLeftovers {
	if r == nil {
		return nil
	}
	out := append([]bootLeftovers(nil), r.Leftovers...)
	if r.Host != "" && (len(r.Daemons) > 0 || r.AdminFiles) {
		out = append(out, bootLeftovers{FSID: r.FSID, Host: r.Host, Daemons: append([]string(nil), r.Daemons...), AdminFiles: r.AdminFiles})
	}
	return out
}

func loadBootstrapRecord(tx *store.Tx) (*bootstrapRecord, error) {
	v, err := tx.GetSetting(bootstrapSetting)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r bootstrapRecord
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("bootstrap record: %w", err)
	}
	return &r, nil
}

func saveBootstrapRecord(tx *store.Tx, r *bootstrapRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.SetSetting(bootstrapSetting, string(b))
}

// bootRuntime is the in-memory side of bootstrap for one Controller: the
// attempt running in this process and the goroutine that runs it.
type bootRuntime struct {
	// mu guards active, cancel and closed.
	mu     sync.Mutex
	active uint64
	cancel context.CancelFunc
	closed bool
	// wg counts running attempts (at most one).
	wg sync.WaitGroup
}

// bootRT returns the Controller's bootstrap state (created in New).
func (c *Controller) bootRT() *bootRuntime { return c.boot }

// CloseBootstrap cancels a running bootstrap and waits for it to stop; what
// it made stays (recorded) and the next `orch bootstrap` removes it first,
// so that a shutdown is not held up by a cleanup. `orch serve` calls it on
// shutdown; later Bootstrap calls are refused.
func (c *Controller) CloseBootstrap() {
	rt := c.bootRT()
	rt.mu.Lock()
	rt.closed = true
	if rt.cancel != nil {
		rt.cancel()
	}
	rt.mu.Unlock()
	rt.wg.Wait()
}

// bootClosing reports whether CloseBootstrap was called.
func (c *Controller) bootClosing() bool {
	rt := c.bootRT()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.closed
}

var (
	fsidRE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	daemonIDRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,62}$`)
	imageRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$`)
)

// maxBootstrapConfig bounds the ceph.conf text of a request.
const maxBootstrapConfig = 64 << 10

// normalizeBootstrap validates what can be checked without a host.
func normalizeBootstrap(r *api.BootstrapRequest) error {
	ip, err := netip.ParseAddr(strings.Trim(r.MonIP, "[]"))
	if err != nil || ip.IsUnspecified() || ip.IsMulticast() {
		return invalidf("--mon-ip %q: want the IPv4 or IPv6 address the first monitor listens on", r.MonIP)
	}
	r.MonIP = ip.Unmap().String()
	if r.Host != "" {
		if err := spec.ValidateHostname(r.Host); err != nil {
			return err
		}
	}
	if r.FSID != "" && !fsidRE.MatchString(strings.ToLower(r.FSID)) {
		return invalidf("--fsid %q: want a UUID such as 2d2fd136-6df1-11ee-9a0a-525400a1b2c3", r.FSID)
	}
	r.FSID = strings.ToLower(r.FSID)
	if r.Image != "" && !imageRE.MatchString(r.Image) {
		return invalidf("--image %q: not an image reference", r.Image)
	}
	for flag, v := range map[string]string{"--mon-id": r.MonID, "--mgr-id": r.MgrID} {
		if v != "" && !daemonIDRE.MatchString(v) {
			return invalidf("%s %q: want [A-Za-z0-9_.-], at most 63 characters", flag, v)
		}
	}
	for flag, v := range map[string]string{"--public-network": r.PublicNetwork, "--cluster-network": r.ClusterNetwork} {
		if v == "" {
			continue
		}
		for _, n := range strings.Split(v, ",") {
			if _, err := netip.ParsePrefix(strings.TrimSpace(n)); err != nil {
				return invalidf("%s %q: want CIDR networks (comma-separated)", flag, v)
			}
		}
	}
	if r.SSHUser != "" {
		if err := validateUser(r.SSHUser); err != nil {
			return err
		}
	}
	if (r.SSHPrivateKey == "") != (r.SSHPublicKey == "") {
		return invalidf("--ssh-private-key and --ssh-public-key go together")
	}
	if len(r.Config) > maxBootstrapConfig {
		return invalidf("--config: %d bytes, at most %d", len(r.Config), maxBootstrapConfig)
	}
	return nil
}

// Bootstrap starts bootstrapping a new cluster on one host (cephadm
// bootstrap): it checks the request, settles the fsid and the cluster SSH
// identity, records the attempt and runs it in the background. It refuses
// a cluster that is bootstrapped already (EEXIST) and a second attempt
// while one runs (EBUSY).
func (c *Controller) Bootstrap(ctx context.Context, r api.BootstrapRequest) (api.BootstrapStatus, error) {
	if err := normalizeBootstrap(&r); err != nil {
		return api.BootstrapStatus{}, err
	}
	if r.MgrModule || r.ControllerURL != "" {
		u, err := c.mgrModuleURL(r.ControllerURL)
		if err != nil {
			return api.BootstrapStatus{}, err
		}
		r.MgrModule, r.ControllerURL = true, u
	}
	rt := c.bootRT()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return api.BootstrapStatus{}, bootErr(api.ErrUnavailable, "the controller is shutting down")
	}
	if rt.active != 0 {
		return api.BootstrapStatus{}, bootErr(api.ErrBusy, "a bootstrap is in progress (operation %d; `orch bootstrap status --wait` follows it)", rt.active)
	}
	cl, err := c.st.GetCluster()
	if err != nil {
		return api.BootstrapStatus{}, err
	}
	var prev *bootstrapRecord
	var hasAdmin bool
	err = c.st.View(func(tx *store.Tx) error {
		var err error
		if prev, err = loadBootstrapRecord(tx); err != nil {
			return err
		}
		_, err = tx.GetSecret(store.KeyringSecret("client.admin"))
		hasAdmin = err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return api.BootstrapStatus{}, err
	}
	switch {
	case prev != nil && prev.State == bootRecComplete:
		return api.BootstrapStatus{}, bootErr(api.ErrExists, "Cluster already bootstrapped: fsid %s (mon.%s on host %s since %s)",
			prev.FSID, prev.MonID, prev.Host, prev.Finished.UTC().Format(time.RFC3339))
	case prev == nil && hasAdmin:
		return api.BootstrapStatus{}, bootErr(api.ErrExists, "Cluster already bootstrapped: fsid %s (the store holds its client.admin keyring)", cl.FSID)
	}

	// The fsid: the controller's, or --fsid while no host is managed.
	fsid := cl.FSID
	if r.FSID != "" && r.FSID != cl.FSID {
		hosts, err := c.st.ListHosts()
		if err != nil {
			return api.BootstrapStatus{}, err
		}
		if len(hosts) > 0 {
			return api.BootstrapStatus{}, invalidf("--fsid %s: the controller already manages %d host(s) under fsid %s; bootstrap that fsid (omit --fsid) or use a fresh controller store", r.FSID, len(hosts), cl.FSID)
		}
		fsid = r.FSID
	}
	if r.Image == "" {
		r.Image = cl.ContainerImage
	}
	if r.Image == "" {
		r.Image = DefaultCephImage
	}

	// The SSH identity, before anything touches a host.
	generated := false
	if r.SSHUser != "" {
		if _, err := c.SetUser(ctx, r.SSHUser); err != nil {
			return api.BootstrapStatus{}, err
		}
	}
	if r.SSHPrivateKey != "" {
		if _, err := c.SetPrivateKey(ctx, r.SSHPrivateKey); err != nil {
			return api.BootstrapStatus{}, err
		}
		if _, err := c.SetPublicKey(ctx, r.SSHPublicKey); err != nil {
			return api.BootstrapStatus{}, err
		}
	} else if _, err := c.PublicKey(); errors.Is(err, ErrNoSSHKey) {
		if _, err := c.GenerateKey(ctx); err != nil {
			return api.BootstrapStatus{}, err
		}
		generated = true
	} else if err != nil {
		return api.BootstrapStatus{}, err
	}
	pub, err := c.PublicKey()
	if err != nil {
		return api.BootstrapStatus{}, err
	}

	now := c.now().UTC()
	st := api.BootstrapStatus{
		State: api.BootstrapRunning, FSID: fsid, Host: r.Host, MonIP: r.MonIP, Image: r.Image,
		SSHPublicKey: pub, GeneratedSSHKey: generated, Steps: []api.BootstrapStep{}, Started: fmtBootTime(now),
	}
	rec := &bootstrapRecord{State: bootRecRunning, FSID: fsid, MonIP: r.MonIP, Image: r.Image, Started: now}
	err = c.st.Update(func(tx *store.Tx) error {
		if fsid != cl.FSID {
			if _, err := tx.UpdateCluster(func(cl *store.Cluster) error { cl.FSID = fsid; return nil }); err != nil {
				return err
			}
		}
		body, err := json.Marshal(st)
		if err != nil {
			return err
		}
		op, err := tx.CreateOperation(store.Operation{Kind: opBootstrap, State: store.OpRunning,
			Messages: []string{"bootstrap fsid " + fsid + " on " + r.MonIP}, Result: body})
		if err != nil {
			return err
		}
		st.Operation, rec.Operation = op.ID, op.ID
		// A failed or interrupted attempt: keep what it left, so that this
		// attempt removes it first (even after a controller restart).
		rec.Leftovers = prev.leftovers()
		return saveBootstrapRecord(tx, rec)
	})
	if err != nil {
		return api.BootstrapStatus{}, err
	}
	if prev != nil && prev.State == bootRecRunning {
		c.failInterrupted(prev.Operation)
	}
	c.log.Info().Str("fsid", fsid).Str("mon_ip", r.MonIP).Str("image", r.Image).Uint64("operation", st.Operation).Msg("bootstrap started")

	runCtx, cancel := context.WithTimeout(context.Background(), bootstrapTimeout)
	rt.active, rt.cancel = st.Operation, cancel
	rt.wg.Add(1)
	b := &bootRun{c: c, req: r, rec: rec, st: st, started: now,
		log: c.log.With().Str("fsid", fsid).Uint64("operation", st.Operation).Logger()}
	go func() {
		defer rt.wg.Done()
		defer cancel()
		b.run(runCtx)
		rt.mu.Lock()
		rt.active, rt.cancel = 0, nil
		rt.mu.Unlock()
	}()
	return st, nil
}

// failInterrupted marks an attempt that was running when the controller
// stopped as failed.
func (c *Controller) failInterrupted(id uint64) {
	if id == 0 {
		return
	}
	_, err := c.st.UpdateOperation(id, func(op *store.Operation) error {
		if op.State != store.OpPending && op.State != store.OpRunning {
			return errSkipBoot
		}
		op.State, op.Error = store.OpFailed, "interrupted: the controller stopped during the bootstrap"
		return nil
	})
	if err != nil && !errors.Is(err, errSkipBoot) && !errors.Is(err, store.ErrNotFound) {
		c.log.Warn().Err(err).Uint64("operation", id).Msg("mark interrupted bootstrap failed")
	}
}

var errSkipBoot = errors.New("skip")

// bootError is a refusal with a clean message: it matches its sentinel
// (errors.Is) and carries the sentinel's errno, without the sentinel's
// text appended to the message.
type bootError struct {
	sentinel error
	msg      string
}

func bootErr(sentinel error, format string, a ...any) error {
	return &bootError{sentinel: sentinel, msg: fmt.Sprintf(format, a...)}
}

func (e *bootError) Error() string        { return e.msg }
func (e *bootError) Is(target error) bool { return target == e.sentinel }

// Errno maps the sentinel as the API does.
func (e *bootError) Errno() syscall.Errno { return api.AsError(e.sentinel).Code }

// BootstrapStatus reports a bootstrap attempt: operation id, or the
// latest one (0). An attempt the store says is running but that no longer
// runs in this process (the controller restarted) is reported failed.
func (c *Controller) BootstrapStatus(id uint64) (api.BootstrapStatus, error) {
	if id == 0 {
		ops, err := c.st.ListOperations()
		if err != nil {
			return api.BootstrapStatus{}, err
		}
		for i := len(ops) - 1; i >= 0; i-- {
			if ops[i].Kind == opBootstrap {
				id = ops[i].ID
				break
			}
		}
		if id == 0 {
			return api.BootstrapStatus{}, fmt.Errorf("no bootstrap has run on this controller: %w", api.ErrNotFound)
		}
	}
	op, err := c.st.GetOperation(id)
	if errors.Is(err, store.ErrNotFound) {
		return api.BootstrapStatus{}, fmt.Errorf("operation %d not found: %w", id, api.ErrNotFound)
	}
	if err != nil {
		return api.BootstrapStatus{}, err
	}
	if op.Kind != opBootstrap {
		return api.BootstrapStatus{}, invalidf("operation %d is a %s, not a bootstrap", id, op.Kind)
	}
	var st api.BootstrapStatus
	if err := json.Unmarshal(op.Result, &st); err != nil {
		return api.BootstrapStatus{}, fmt.Errorf("operation %d: %w", id, err)
	}
	st.Operation = op.ID
	switch op.State {
	case store.OpSucceeded:
		st.State = api.BootstrapSucceeded
	case store.OpFailed, store.OpCancelled:
		st.State = api.BootstrapFailed
		if st.Error == "" {
			st.Error = op.Error
		}
	default:
		rt := c.bootRT()
		rt.mu.Lock()
		running := rt.active == op.ID
		rt.mu.Unlock()
		if running {
			st.State = api.BootstrapRunning
		} else {
			st.State = api.BootstrapFailed
			st.Error = "interrupted: the controller stopped during the bootstrap; run `orch bootstrap` again (it removes what the attempt left first)"
		}
	}
	if st.State == api.BootstrapFailed && st.Errno == 0 {
		e := api.AsError(errors.New(st.Error))
		st.Errno, st.ErrnoName = int(e.Code), e.Name
	}
	return st, nil
}

// WaitBootstrap polls an attempt until it finishes or ctx ends.
func (c *Controller) WaitBootstrap(ctx context.Context, id uint64) (api.BootstrapStatus, error) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := c.BootstrapStatus(id)
		if err != nil || st.Done() {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

// fmtBootTime is cephadm's timestamp format (fractional seconds, Z).
func fmtBootTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// bootstrapSpecs are the service specs bootstrap stores, managed, with
// cephadm's defaults (mon count 5, mgr count 2, crash on every host): the
// daemons bootstrap made belong to them, and the reconciler grows the
// services as hosts are added, as it does after a cephadm bootstrap.
// `orch apply mon|mgr|crash` replaces them.
var bootstrapSpecs = []string{
	"service_type: mon\nplacement:\n  count: 5\n",
	"service_type: mgr\nplacement:\n  count: 2\n",
	"service_type: crash\nplacement:\n  host_pattern: '*'\n",
}

// storeBootstrapSpecs saves bootstrapSpecs that are not stored yet.
func storeBootstrapSpecs(tx *store.Tx, now time.Time) error {
	for _, text := range bootstrapSpecs {
		docs, err := spec.LoadDocuments([]byte(text))
		if err != nil {
			return err
		}
		for _, d := range docs {
			name := d.Name()
			if _, err := tx.GetSpec(name); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			body, err := d.ToJSON().MarshalJSON()
			if err != nil {
				return err
			}
			if err := tx.PutSpec(store.SpecRecord{ServiceName: name, Spec: body, Created: now}); err != nil {
				return err
			}
		}
	}
	return nil
}

// bootSorted returns a sorted copy.
func bootSorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
