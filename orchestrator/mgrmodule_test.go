package orchestrator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/internal/pki"
	"github.com/orchceph/orch/mgr"
	"github.com/orchceph/orch/spec"
)

// withTLSAuto gives the fake env's controller its CA and records a TCP
// listener of that CA on addr, as `orch serve --listen addr --tls-auto`.
func withTLSAuto(t *testing.T, e *cephFakeEnv, addr string) *pki.CA {
	t.Helper()
	host, _, _ := net.SplitHostPort(addr)
	ta, err := e.ctl.IssueServerTLS([]net.IP{net.ParseIP(host)}, []string{"controller"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.SetAPIListener(&APIListener{Addr: addr, OwnCA: true, IPs: ta.IPs, DNSNames: ta.DNSNames}); err != nil {
		t.Fatal(err)
	}
	return ta.CA
}

// orchStatusHook answers the commands the fake cluster does not know:
// `mgr module enable` and `orch status` (backend orch once a mgr runs).
func orchStatusHook(e *cephFakeEnv) {
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if !slices.Contains(c.Argv, "/usr/bin/ceph") {
			return nil, nil, false
		}
		switch {
		case slices.Contains(c.Argv, "module") && slices.Contains(c.Argv, "enable"):
			return nil, nil, true
		case slices.Contains(c.Argv, "orch") && slices.Contains(c.Argv, "status"):
			return []byte(`{"available": true, "backend": "orch"}`), nil, true
		}
		return nil, nil, false
	})
}

func TestBootstrapMgrModuleFake(t *testing.T) {
	e := newCephFakeEnv(t)
	ca := withTLSAuto(t, e, "10.0.0.254:7443")
	orchStatusHook(e)
	st := bootAndWait(t, e, api.BootstrapRequest{MonIP: "10.0.0.5", Host: "node1", Image: "localhost/ceph:16.2.15", MgrModule: true})
	if st.State != api.BootstrapSucceeded {
		t.Fatalf("state %s: %s; steps %+v", st.State, st.Error, st.Steps)
	}
	var names []string
	for _, s := range st.Steps {
		names = append(names, s.Name)
	}
	iCfg, iMgr := slices.Index(names, "Configuring the orch mgr module"), slices.Index(names, "Deploying the mgr")
	iWait, iAvail := slices.Index(names, "Waiting for `ceph orch` to answer through orch"), slices.Index(names, "Waiting for the mgr to become available")
	if iCfg < 0 || iCfg != iMgr-1 || iWait != iAvail+1 || len(names) != bootStepTotal+2 {
		t.Errorf("steps %q", names)
	}
	if d := st.Steps[iWait].Detail; !strings.Contains(d, "Backend: orch, Available: Yes") {
		t.Errorf("wait step detail %q", d)
	}

	mgrName := "mgr." + st.MgrID
	req := e.fake.daemons[mgrName]
	if req == nil {
		t.Fatalf("no %s deployed", mgrName)
	}
	t.Run("deploy document", func(t *testing.T) { checkMgrModuleDoc(t, req, ca, st.MgrID) })

	t.Run("ceph commands", func(t *testing.T) {
		var sets []string
		enabled, mgrDeploy, orchStatus := -1, -1, -1
		for i, c := range e.fake.Calls() {
			a := c.Argv
			switch {
			case slices.Contains(a, "/usr/bin/ceph") && slices.Contains(a, "config") && slices.Contains(a, "set"):
				j := slices.Index(a, "set")
				sets = append(sets, strings.Join(a[j+1:], " "))
			case slices.Contains(a, "/usr/bin/ceph") && slices.Contains(a, "enable"):
				enabled = i
				if !slices.Equal(a[len(a)-4:], []string{"module", "enable", "orch", "--force"}) {
					t.Errorf("enable argv %q", a)
				}
			case slices.Contains(a, "/usr/bin/ceph") && slices.Contains(a, "orch"):
				orchStatus = i
			case len(a) > 2 && a[2] == "deploy" && strings.Contains(string(c.Stdin), `"name":"`+mgrName+`"`):
				mgrDeploy = i
			}
		}
		for _, want := range []string{
			"mgr mgr/orch/api_url https://10.0.0.254:7443 --force",
			"mgr mgr/orch/client_cert /etc/orch-mgr/client.crt --force",
			"mgr mgr/orch/client_key /etc/orch-mgr/client.key --force",
			"mgr mgr/orch/ca_cert /etc/orch-mgr/ca.crt --force",
			"mgr mgr/orchestrator/orchestrator orch --force",
		} {
			if !slices.Contains(sets, want) {
				t.Errorf("no `ceph config set %s` in %q", want, sets)
			}
		}
		// Configured and enabled before the mgr's first start (no respawn);
		// `orch status` asked after it.
		if enabled < 0 || mgrDeploy < 0 || enabled > mgrDeploy || orchStatus < mgrDeploy {
			t.Errorf("order: enable %d, mgr deploy %d, orch status %d", enabled, mgrDeploy, orchStatus)
		}
	})

	t.Run("no key material in argv", func(t *testing.T) {
		keys := e.secrets(t)
		keys = append(keys, req.ConfigBlobs.Files["orch-mgr-tls/client.key"])
		caKey, _ := ca.KeyPEM()
		keys = append(keys, string(caKey), "PRIVATE KEY")
		e.noSecretInArgv(t, keys)
	})

	t.Run("remembered for the reconciler", func(t *testing.T) {
		m, err := e.ctl.loadMgrModuleConfig()
		if err != nil || m == nil || m.APIURL != "https://10.0.0.254:7443" {
			t.Fatalf("mgr module config %+v, %v", m, err)
		}
		r := NewReconciler(e.ctl, ReconcilerOptions{})
		doc, err := cephDeployRequest(cephDeploy{FSID: req.FSID, Image: req.Image, Type: "mgr", ID: "node2.xyzabc", UID: 167, GID: 167, Config: "x", Keyring: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.addMgrModuleIfOn(doc, &daemonSpec{daemonType: "mgr", id: "node2.xyzabc", host: "node2"}); err != nil {
			t.Fatal(err)
		}
		checkMgrModuleDoc(t, doc, ca, "node2.xyzabc")
		crash, _ := cephDeployRequest(cephDeploy{FSID: req.FSID, Image: req.Image, Type: "crash", ID: "node2", Config: "x"})
		if err := r.addMgrModuleIfOn(crash, &daemonSpec{daemonType: "crash", id: "node2", host: "node2"}); err != nil || crash.Container != nil || len(crash.ConfigBlobs.Files) != 0 {
			t.Errorf("crash got the module: %+v, %v", crash.Container, err)
		}
	})
}

// checkMgrModuleDoc checks a mgr's deploy document carries the module
// (the embedded files), its own client certificate of the CA, and the
// read-only mounts.
func checkMgrModuleDoc(t *testing.T, req *agent.DeployRequest, ca *pki.CA, id string) {
	t.Helper()
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	files := req.ConfigBlobs.Files
	embedded, _ := fs.Glob(mgr.Files, "orch_mgr/*.py")
	if len(embedded) < 4 {
		t.Fatalf("embedded module files %q", embedded)
	}
	for _, p := range embedded {
		want, _ := fs.ReadFile(mgr.Files, p)
		if got := files["orch-mgr-module/"+strings.TrimPrefix(p, "orch_mgr/")]; got != string(want) {
			t.Errorf("%s: differs from the embedded copy (%d bytes, want %d)", p, len(got), len(want))
		}
	}
	if files["orch-mgr-tls/ca.crt"] != string(ca.CertPEM()) {
		t.Error("ca.crt is not the controller's CA")
	}
	cert, key := files["orch-mgr-tls/client.crt"], files["orch-mgr-tls/client.key"]
	if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
		t.Errorf("client cert and key: %v", err)
	}
	c, err := pki.ParseCertificate([]byte(cert))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client cert does not verify against the controller CA: %v", err)
	}
	if c.Subject.CommonName != "mgr."+id {
		t.Errorf("client cert CN %q, want mgr.%s", c.Subject.CommonName, id)
	}
	if req.Container == nil || req.Container.Entrypoint != "" || len(req.Container.Args) != 0 || req.Container.Privileged {
		t.Fatalf("container section %+v: want mounts only", req.Container)
	}
	want := map[string]string{"orch-mgr-module": "/usr/share/ceph/mgr/orch:ro,z", "orch-mgr-tls": "/etc/orch-mgr:ro,z"}
	if len(req.Container.VolumeMounts) != 2 || req.Container.VolumeMounts["orch-mgr-module"] != want["orch-mgr-module"] ||
		req.Container.VolumeMounts["orch-mgr-tls"] != want["orch-mgr-tls"] {
		t.Errorf("mounts %v, want %v", req.Container.VolumeMounts, want)
	}
	// The agent writes config blobs 0600, owned by the document's uid:
	// the ceph user the mgr runs as.
	if req.Params.UID == nil || *req.Params.UID != 167 || req.Params.GID == nil || *req.Params.GID != 167 {
		t.Errorf("uid/gid %v/%v, want 167", req.Params.UID, req.Params.GID)
	}
	if strings.Contains(req.String(), "PRIVATE") {
		t.Error("the request's String shows key material")
	}
}

func TestBootstrapMgrModuleRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		listener *APIListener
		url      string
		want     string
	}{
		{"no listener", nil, "", "restart it with `orch serve --listen IP:PORT --tls-auto`"},
		{"listener with operator certificates", &APIListener{Addr: "10.0.0.254:7443"}, "", "uses certificates orch did not issue"},
		{"every address, no url", &APIListener{Addr: "0.0.0.0:7443", OwnCA: true, IPs: []string{"10.0.0.254"}}, "", "--controller-url https://IP:7443"},
		{"url not in the certificate", &APIListener{Addr: "10.0.0.254:7443", OwnCA: true, IPs: []string{"10.0.0.254"}}, "https://10.0.0.9:7443", "does not name 10.0.0.9"},
		{"http url", &APIListener{Addr: "10.0.0.254:7443", OwnCA: true, IPs: []string{"10.0.0.254"}}, "http://10.0.0.254:7443", "want https://HOST:PORT"},
		{"url without port", &APIListener{Addr: "10.0.0.254:7443", OwnCA: true, IPs: []string{"10.0.0.254"}}, "https://10.0.0.254", "want https://HOST:PORT"},
		{"url with path", &APIListener{Addr: "10.0.0.254:7443", OwnCA: true, IPs: []string{"10.0.0.254"}}, "https://10.0.0.254:7443/api", "want https://HOST:PORT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCephFakeEnv(t)
			if err := e.ctl.SetAPIListener(tc.listener); err != nil {
				t.Fatal(err)
			}
			_, err := e.ctl.Bootstrap(ctx, api.BootstrapRequest{MonIP: "10.0.0.5", MgrModule: true, ControllerURL: tc.url})
			if !errors.Is(err, spec.ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Bootstrap = %v, want EINVAL with %q", err, tc.want)
			}
			if ops, _ := e.st.ListOperations(); len(ops) != 0 || len(e.fake.Calls()) != 0 {
				t.Errorf("a refused bootstrap did something: %d operations, %d commands", len(ops), len(e.fake.Calls()))
			}
		})
	}
}

func TestMgrModuleURL(t *testing.T) {
	e := newCephFakeEnv(t)
	if err := e.ctl.SetAPIListener(&APIListener{Addr: "0.0.0.0:7443", OwnCA: true, IPs: []string{"10.0.0.254", "fd00::fe"}, DNSNames: []string{"controller"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"https://10.0.0.254:7443", "https://10.0.0.254:7443"},
		{"https://10.0.0.254:17443/", "https://10.0.0.254:17443"},
		{"https://[fd00::fe]:7443", "https://[fd00::fe]:7443"},
		{"https://controller:7443", "https://controller:7443"},
	} {
		got, err := e.ctl.mgrModuleURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("mgrModuleURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if err := e.ctl.SetAPIListener(&APIListener{Addr: "[fd00::fe]:7443", OwnCA: true, IPs: []string{"fd00::fe"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.ctl.mgrModuleURL(""); err != nil || got != "https://[fd00::fe]:7443" {
		t.Errorf("default URL = %q, %v", got, err)
	}
	// A restarted controller without --listen forgets the listener.
	if err := e.ctl.SetAPIListener(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.mgrModuleURL(""); err == nil {
		t.Error("no listener, but a URL")
	}
}

func TestEnsureCAIsKept(t *testing.T) {
	e := newCephFakeEnv(t)
	ca1, created, err := e.ctl.EnsureCA()
	if err != nil || !created {
		t.Fatalf("EnsureCA = %v, created %v", err, created)
	}
	ca2, created, err := e.ctl.EnsureCA()
	if err != nil || created || !ca2.Cert.Equal(ca1.Cert) {
		t.Fatalf("second EnsureCA: created %v, same %v, %v", created, ca2.Cert.Equal(ca1.Cert), err)
	}
	names, _ := e.st.ListSecretNames()
	if !slices.Contains(names, caKeySecret) || !slices.Contains(names, caCertSecret) {
		t.Errorf("secrets %q", names)
	}
	// A server certificate of the stored CA.
	ta, err := e.ctl.IssueServerTLS([]net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Cert.Leaf.Verify(x509.VerifyOptions{Roots: ca1.Pool(), DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("server cert: %v", err)
	}
	// Without a CA the reconciler refuses to deploy a mgr with the module.
	e2 := newCephFakeEnv(t)
	req, _ := cephDeployRequest(cephDeploy{FSID: "2d2fd136-6df1-11ee-9a0a-525400a1b2c3", Image: "img", Type: "mgr", ID: "a", Config: "x"})
	if err := e2.ctl.addMgrModule(req, "a"); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("addMgrModule without a CA = %v", err)
	}
}

func TestTLSAutoNames(t *testing.T) {
	iface := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.254"), net.ParseIP("fe80::1"), net.ParseIP("fd00::fe")}
	for _, tc := range []struct {
		listen, host string
		ips, dns     []string
		err          bool
	}{
		{"10.0.0.254:7443", "ctl", []string{"10.0.0.254"}, []string{"ctl"}, false},
		{"127.0.0.1:0", "", []string{"127.0.0.1"}, []string{"localhost"}, false},
		{":7443", "ctl", []string{"127.0.0.1", "10.0.0.254", "fd00::fe"}, []string{"ctl", "localhost"}, false},
		{"0.0.0.0:7443", "", []string{"127.0.0.1", "10.0.0.254", "fd00::fe"}, []string{"localhost"}, false},
		{"[::]:7443", "", []string{"127.0.0.1", "10.0.0.254", "fd00::fe"}, []string{"localhost"}, false},
		{"orch.example:7443", "ctl", nil, []string{"orch.example", "ctl"}, false},
		{"10.0.0.254", "", nil, nil, true},
	} {
		ips, dns, err := TLSAutoNames(tc.listen, iface, tc.host)
		var got []string
		for _, ip := range ips {
			got = append(got, ip.String())
		}
		if (err != nil) != tc.err || !slices.Equal(got, tc.ips) || !slices.Equal(dns, tc.dns) {
			t.Errorf("TLSAutoNames(%q) = %q %q %v; want %q %q", tc.listen, got, dns, err, tc.ips, tc.dns)
		}
	}
}
