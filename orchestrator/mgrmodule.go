package orchestrator

// orch's ceph-mgr module on an orch-managed cluster (docs/mgr-module.md,
// "On an orch-managed cluster"): `ceph orch ...` run on the cluster itself
// reaches this controller, as it reaches cephadm's module on a cephadm
// cluster.
//
//   - The controller keeps a small CA (internal/pki) in the store's secrets.
//     `orch serve --listen ADDR --tls-auto` creates it on first start and
//     serves the TCP API with a server certificate of that CA, requiring
//     client certificates of that CA; it records the listener
//     (SetAPIListener) so that bootstrap knows the default URL.
//   - `orch bootstrap --mgr-module` pre-configures the module before the
//     first mgr starts (options, backend, `mgr module enable --force`: no
//     respawn later) and remembers the URL; every mgr daemon, bootstrap's
//     and the reconciler's, then gets the module's files and a client
//     certificate of its own in its data dir, bind-mounted read-only at
//     fixed paths in the container.
//
// Key material travels only in the deploy document on the agent's stdin
// and lands 0600, owned by the ceph uid; the mon's configuration database
// holds only paths.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/internal/pki"
	"github.com/orchceph/orch/mgr"
	"github.com/orchceph/orch/store"
)

const (
	// MgrModuleName is the module's name in ceph-mgr (its directory name).
	MgrModuleName = "orch"
	// MgrModuleDir is where the module appears in a mgr container: a
	// directory of the stock mgr_module_path, so no farm is needed.
	MgrModuleDir = "/usr/share/ceph/mgr/" + MgrModuleName
	// MgrTLSDir is where a mgr container sees its client certificate, key
	// and the controller's CA; the same path for every mgr, so that one
	// set of options (section "mgr") serves them all.
	MgrTLSDir = "/etc/orch-mgr"

	// The module's and TLS directories inside a mgr's data dir.
	mgrModuleDataDir = "orch-mgr-module"
	mgrTLSDataDir    = "orch-mgr-tls"

	// mgrModuleSetting holds the mgrModuleConfig once a cluster uses the
	// module; apiListenerSetting the APIListener of the running
	// controller.
	mgrModuleSetting   = "orch/mgr-module"
	apiListenerSetting = "orch/api-listener"
	// The controller CA in the store's secrets (0600, never printed).
	caCertSecret = "pki/ca.crt"
	caKeySecret  = "pki/ca.key"

	// mgrOrchTimeout bounds the wait for `ceph orch status` to answer
	// through the module after the mgr is up.
	mgrOrchTimeout = 3 * time.Minute
)

// APIListener is the controller's TCP API listener as `orch serve` records
// it at start (nil: none).
type APIListener struct {
	// Addr is the address listened on (host:port, the port resolved).
	Addr string `json:"addr"`
	// OwnCA is set when the listener's certificates come from the
	// controller's CA (--tls-auto): only then can it issue mgr client
	// certificates that the listener accepts.
	OwnCA bool `json:"own_ca"`
	// IPs and DNSNames are the server certificate's names.
	IPs      []string `json:"ips,omitempty"`
	DNSNames []string `json:"dns_names,omitempty"`
}

// mgrModuleConfig is what every mgr daemon of the cluster is deployed
// with once the module is on.
type mgrModuleConfig struct {
	// APIURL is https://HOST:PORT of the controller as the mgr hosts
	// reach it.
	APIURL string `json:"api_url"`
}

// SetAPIListener records the TCP listener of this controller process (nil:
// it has none). `orch serve` calls it at every start, so that a listener
// of an earlier run is never offered to bootstrap.
func (c *Controller) SetAPIListener(l *APIListener) error {
	return c.st.Update(func(tx *store.Tx) error {
		if l == nil {
			if err := tx.DeleteSetting(apiListenerSetting); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		return tx.SetSetting(apiListenerSetting, string(b))
	})
}

func (c *Controller) apiListener() (*APIListener, error) {
	v, err := c.st.GetSetting(apiListenerSetting)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l APIListener
	if err := json.Unmarshal([]byte(v), &l); err != nil {
		return nil, fmt.Errorf("api listener record: %w", err)
	}
	return &l, nil
}

// EnsureCA returns the controller's CA, creating it (and keeping it in the
// store's secrets) on first use; created reports that.
func (c *Controller) EnsureCA() (ca *pki.CA, created bool, err error) {
	err = c.st.Update(func(tx *store.Tx) error {
		ca, err = loadCA(tx)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return err
		}
		cl, err := tx.GetCluster()
		if err != nil {
			return err
		}
		if ca, err = pki.NewCA("orch controller CA "+cl.FSID, c.now()); err != nil {
			return err
		}
		key, err := ca.KeyPEM()
		if err != nil {
			return err
		}
		if err := tx.SetSecret(caKeySecret, store.Secret(key)); err != nil {
			return err
		}
		created = true
		return tx.SetSecret(caCertSecret, store.Secret(ca.CertPEM()))
	})
	return ca, created, err
}

// loadCA reads the CA; store.ErrNotFound when there is none.
func loadCA(tx *store.Tx) (*pki.CA, error) {
	cert, err := tx.GetSecret(caCertSecret)
	if err != nil {
		return nil, err
	}
	key, err := tx.GetSecret(caKeySecret)
	if err != nil {
		return nil, err
	}
	ca, err := pki.Parse([]byte(cert), []byte(key))
	if err != nil {
		return nil, fmt.Errorf("controller CA in the store: %w", err)
	}
	return ca, nil
}

// TLSAuto is the TCP API's TLS material from the controller's CA.
type TLSAuto struct {
	CA *pki.CA
	// Cert is the server certificate (new at every call) and its key.
	Cert tls.Certificate
	// IPs and DNSNames are its names.
	IPs      []string
	DNSNames []string
}

// IssueServerTLS makes the CA if needed and issues a server certificate for
// the listen address (see TLSAutoNames).
func (c *Controller) IssueServerTLS(ips []net.IP, dnsNames []string) (*TLSAuto, error) {
	ca, _, err := c.EnsureCA()
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.IssueServer(ips, dnsNames, c.now())
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	t := &TLSAuto{CA: ca, Cert: pair, DNSNames: append([]string(nil), dnsNames...)}
	for _, ip := range ips {
		t.IPs = append(t.IPs, ip.String())
	}
	return t, nil
}

// TLSAutoNames are the server certificate's names for a listen address: its
// IP; for an unspecified one (":7443", "0.0.0.0:7443") every address of the
// machine (ifaceIPs, link-local ones dropped). hostname, when set, is added
// as a DNS name, with "localhost" when a loopback address is among the IPs.
func TLSAutoNames(listen string, ifaceIPs []net.IP, hostname string) ([]net.IP, []string, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, nil, fmt.Errorf("--listen %q: %w", listen, err)
	}
	var ips []net.IP
	var dns []string
	if host != "" {
		a, err := netip.ParseAddr(host)
		if err != nil {
			// A name: it is the certificate's name.
			dns = append(dns, host)
		} else if !a.IsUnspecified() {
			ips = append(ips, net.IP(a.Unmap().AsSlice()))
		}
	}
	if host == "" || (len(ips) == 0 && len(dns) == 0) {
		for _, ip := range ifaceIPs {
			if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() {
				continue
			}
			ips = append(ips, ip)
		}
	}
	if hostname != "" && !slices.Contains(dns, hostname) {
		dns = append(dns, hostname)
	}
	for _, ip := range ips {
		if ip.IsLoopback() && !slices.Contains(dns, "localhost") {
			dns = append(dns, "localhost")
			break
		}
	}
	if len(ips) == 0 && len(dns) == 0 {
		return nil, nil, fmt.Errorf("--listen %q: no address to put in the server certificate", listen)
	}
	return ips, dns, nil
}

// mgrModuleURL settles the controller URL the mgr module uses: given (an
// https://HOST:PORT URL whose host the server certificate names), else
// the TCP listener's address. Without a listener of the controller's own
// CA, it is an EINVAL error that says what to start.
func (c *Controller) mgrModuleURL(given string) (string, error) {
	l, err := c.apiListener()
	if err != nil {
		return "", err
	}
	if l == nil {
		return "", invalidf("--mgr-module: the controller has no TCP listener, and the mgr daemons reach it over TCP with mutual TLS; restart it with `orch serve --listen IP:PORT --tls-auto` (an address the hosts reach), then bootstrap again")
	}
	if !l.OwnCA {
		return "", invalidf("--mgr-module: the controller's TCP listener (%s) uses certificates orch did not issue, so it cannot give the mgr daemons client certificates it accepts; restart it with `orch serve --listen %s --tls-auto`", l.Addr, l.Addr)
	}
	if given == "" {
		host, port, err := net.SplitHostPort(l.Addr)
		if err != nil {
			return "", err
		}
		if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
			return "", invalidf("--mgr-module: the controller listens on %s (every address); give the one the hosts reach with --controller-url https://IP:%s", l.Addr, port)
		}
		return "https://" + net.JoinHostPort(host, port), nil
	}
	u, err := url.Parse(given)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", invalidf("--controller-url %q: want https://HOST:PORT (the controller's TCP API with mutual TLS)", given)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return "", invalidf("--controller-url %q: bad port", given)
	}
	host := u.Hostname()
	named := slices.Contains(l.DNSNames, host)
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
		named = false
		for _, ip := range l.IPs {
			if b, err := netip.ParseAddr(ip); err == nil && b.Unmap() == a.Unmap() {
				named = true
			}
		}
	}
	if !named {
		return "", invalidf("--controller-url %q: the controller's certificate does not name %s (it names %s); use one of those, or listen on that address",
			given, host, strings.Join(append(append([]string(nil), l.IPs...), l.DNSNames...), ", "))
	}
	return "https://" + net.JoinHostPort(host, u.Port()), nil
}

// loadMgrModuleConfig returns the cluster's module configuration, nil
// when the module is not in use.
func (c *Controller) loadMgrModuleConfig() (*mgrModuleConfig, error) {
	v, err := c.st.GetSetting(mgrModuleSetting)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m mgrModuleConfig
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, fmt.Errorf("mgr module record: %w", err)
	}
	return &m, nil
}

func (c *Controller) saveMgrModuleConfig(m mgrModuleConfig) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.st.SetSetting(mgrModuleSetting, string(b))
}

// mgrModuleFiles are the module's Python files, from the orch binary's
// embedded copy, as data-dir files of a mgr.
func mgrModuleFiles() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(mgr.Files, "orch_mgr", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".py") {
			return err
		}
		b, err := fs.ReadFile(mgr.Files, p)
		if err != nil {
			return err
		}
		out[path.Join(mgrModuleDataDir, strings.TrimPrefix(p, "orch_mgr/"))] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded mgr module: %w", err)
	}
	if _, ok := out[path.Join(mgrModuleDataDir, "module.py")]; !ok {
		return nil, errors.New("embedded mgr module: no module.py")
	}
	return out, nil
}

// addMgrModule adds the module's files, a new client certificate for
// mgr.<id> with its key and the CA to a mgr's deploy document, and the
// read-only mounts that show them at MgrModuleDir and MgrTLSDir. The
// files are written 0600 and owned by the document's uid (the ceph user
// the mgr runs as).
func (c *Controller) addMgrModule(req *agent.DeployRequest, id string) error {
	var ca *pki.CA
	err := c.st.View(func(tx *store.Tx) error {
		var err error
		ca, err = loadCA(tx)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("mgr.%s: the orch mgr module is on, but the store has no controller CA (start `orch serve --tls-auto` once): %w", id, api.ErrInvalid)
	}
	if err != nil {
		return err
	}
	files, err := mgrModuleFiles()
	if err != nil {
		return err
	}
	cert, key, err := ca.IssueClient("mgr."+id, c.now())
	if err != nil {
		return fmt.Errorf("mgr.%s: issue its client certificate: %w", id, err)
	}
	files[path.Join(mgrTLSDataDir, "client.crt")] = string(cert)
	files[path.Join(mgrTLSDataDir, "client.key")] = string(key)
	files[path.Join(mgrTLSDataDir, "ca.crt")] = string(ca.CertPEM())
	if req.ConfigBlobs.Files == nil {
		req.ConfigBlobs.Files = map[string]string{}
	}
	for k, v := range files {
		req.ConfigBlobs.Files[k] = v
	}
	if req.Container == nil {
		req.Container = &agent.CustomContainer{}
	}
	if req.Container.VolumeMounts == nil {
		req.Container.VolumeMounts = map[string]string{}
	}
	req.Container.VolumeMounts[mgrModuleDataDir] = MgrModuleDir + ":ro,z"
	req.Container.VolumeMounts[mgrTLSDataDir] = MgrTLSDir + ":ro,z"
	return req.Validate()
}

// addMgrModuleIfOn is the reconciler's hook for a mgr's deploy document:
// the module's files and certificate when the cluster uses the module.
func (r *Reconciler) addMgrModuleIfOn(req *agent.DeployRequest, d *daemonSpec) error {
	if d.daemonType != "mgr" {
		return nil
	}
	m, err := r.loadMgrModuleConfig()
	if err != nil || m == nil {
		return err
	}
	return r.addMgrModule(req, d.id)
}

// mgrModuleOptions are the `ceph config set mgr KEY VALUE` pairs that
// point the module at the controller and select it as the orchestrator
// backend (`ceph orch set backend orch` is a silent no-op in 16.2: the
// stock module's enum does not list it; --force skips the check).
func mgrModuleOptions(apiURL string) [][2]string {
	p := "mgr/" + MgrModuleName + "/"
	return [][2]string{
		{p + "api_url", apiURL},
		{p + "client_cert", MgrTLSDir + "/client.crt"},
		{p + "client_key", MgrTLSDir + "/client.key"},
		{p + "ca_cert", MgrTLSDir + "/ca.crt"},
		{"mgr/orchestrator/orchestrator", MgrModuleName},
	}
}

// configureMgrModule sets the module's options and enables it (`--force`:
// no mgr has reported the module yet). Before the first mgr starts, it
// costs no respawn.
func (c *Controller) configureMgrModule(ctx context.Context, call cephCall, apiURL string) error {
	for _, kv := range mgrModuleOptions(apiURL) {
		if _, err := c.ceph(ctx, call, "config", "set", "mgr", kv[0], kv[1], "--force"); err != nil {
			return fmt.Errorf("ceph config set mgr %s: %w", kv[0], err)
		}
	}
	if _, err := c.ceph(ctx, call, "mgr", "module", "enable", MgrModuleName, "--force"); err != nil {
		return fmt.Errorf("ceph mgr module enable %s: %w", MgrModuleName, err)
	}
	return nil
}

// OrchStatus is `ceph orch status --format json`.
type OrchStatus struct {
	Available bool   `json:"available"`
	Backend   string `json:"backend"`
	Reason    string `json:"reason,omitempty"`
}

// ---- bootstrap steps --------------------------------------------------------

// configureMgrModuleStep runs before the first mgr is deployed: it
// pre-configures the module, so that the mgr starts with it.
func (b *bootRun) configureMgrModuleStep(ctx context.Context) (string, error) {
	if err := b.c.configureMgrModule(ctx, b.cephCall(0, 0), b.req.ControllerURL); err != nil {
		return "", err
	}
	return fmt.Sprintf("module %s enabled and selected as the orchestrator backend; api_url %s, client certificates under %s",
		MgrModuleName, b.req.ControllerURL, MgrTLSDir), nil
}

// waitOrchStep waits until `ceph orch status` answers through the module,
// then remembers the URL, so that the mgrs the reconciler deploys later
// get the module too (only once it works: a failed attempt leaves no
// setting for the next cluster).
func (b *bootRun) waitOrchStep(ctx context.Context) (string, error) {
	t0 := b.c.now()
	var st OrchStatus
	err := b.waitFor(ctx, mgrOrchTimeout, "`ceph orch status` to answer through the "+MgrModuleName+" module", "mgr."+b.rec.MgrID,
		func(ctx context.Context) (bool, error) {
			st = OrchStatus{}
			if err := b.c.cephJSON(ctx, b.cephCall(45*time.Second, 10), &st, "orch", "status"); err != nil {
				return false, err
			}
			if st.Backend == MgrModuleName && !st.Available {
				return false, fmt.Errorf("backend %s not available: %s", st.Backend, st.Reason)
			}
			return st.Backend == MgrModuleName && st.Available, nil
		})
	if err != nil {
		return "", err
	}
	if err := b.c.saveMgrModuleConfig(mgrModuleConfig{APIURL: b.req.ControllerURL}); err != nil {
		return "", err
	}
	return fmt.Sprintf("Backend: %s, Available: Yes, after %.1fs", st.Backend, roundSeconds(b.c.now().Sub(t0))), nil
}

// bootStepFn is one named step of a bootstrap attempt.
type bootStepFn struct {
	name string
	fn   func(context.Context) (string, error)
}

// withMgrModuleSteps inserts the module's steps: its configuration before
// the mgr is deployed (so that the mgr starts with it), and the wait for
// `ceph orch` after the mgr is available.
func withMgrModuleSteps(steps []bootStepFn, b *bootRun) []bootStepFn {
	out := make([]bootStepFn, 0, len(steps)+2)
	for _, s := range steps {
		if s.name == "Deploying the mgr" {
			out = append(out, bootStepFn{"Configuring the orch mgr module", b.configureMgrModuleStep})
		}
		out = append(out, s)
		if s.name == "Waiting for the mgr to become available" {
			out = append(out, bootStepFn{"Waiting for `ceph orch` to answer through orch", b.waitOrchStep})
		}
	}
	return out
}
