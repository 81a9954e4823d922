//go:build integration

package orchestrator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/containers"
)

// selfSignedPEM returns a self-signed certificate for ip and its key, as
// one PEM text (what rgw_frontend_ssl_certificate holds), and the
// certificate alone.
func selfSignedPEM(t *testing.T, ip string) (bundle string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rgw.lab"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})), cert
}

// TestNFSRGWSSLLab: one host, bootstrap, one OSD on a loop disk (pools of
// size 1), then through the reconciler an nfs service (ganesha listens on
// 2049 with its grace entry and config object in the .nfs pool, its key
// has the namespace caps, a second nfs service on the host is refused for
// the port) and an rgw service with ssl and a self-signed certificate
// (answers HTTPS, verified against that certificate). Removing the
// services removes the nfs key and the certificate.
func TestNFSRGWSSLLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	e, st, _ := newCephLab(t, ctx, 1, 1, 6<<30)
	h := e.lab.Hosts()[0]
	for _, kv := range [][3]string{{"global", "mon_allow_pool_size_one", "true"}, {"global", "osd_pool_default_size", "1"},
		{"global", "osd_pool_default_pg_num", "8"}, {"global", "mon_warn_on_pool_no_redundancy", "false"}} {
		if err := e.ctl.ConfigSet(ctx, kv[0], kv[1], kv[2]); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReconciler(e.ctl, ReconcilerOptions{Interval: time.Hour, DeployTimeout: 5 * time.Minute})
	apply := func(docs ...map[string]any) {
		t.Helper()
		if _, err := r.Apply(ctx, api.ApplyRequest{Specs: docs}); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	// converge runs passes until ok() holds.
	converge := func(what string, limit time.Duration, ok func() (bool, string)) {
		t.Helper()
		t0 := time.Now()
		last := ""
		for time.Since(t0) < limit {
			r.Pass(ctx)
			var done bool
			if done, last = ok(); done {
				t.Logf("%s: converged in %v: %s", what, time.Since(t0).Round(time.Millisecond), last)
				return
			}
			time.Sleep(2 * time.Second)
		}
		out, _ := e.ctl.CephCommand(ctx, "-s")
		t.Fatalf("%s: not converged after %v: %s; placement failures %v\n%s", what, limit, last, r.lastPlaceFails(), out)
	}

	apply(map[string]any{"service_type": "osd", "service_id": "all-available-devices",
		"placement": map[string]any{"host_pattern": "*"}, "spec": map[string]any{"data_devices": map[string]any{"all": true}}})
	converge("one OSD", 8*time.Minute, func() (bool, string) {
		s, err := e.ctl.CephStatus(ctx)
		if err != nil {
			return false, err.Error()
		}
		return s.OSDMap.NumUpOSDs == 1, fmt.Sprintf("osds %d up %d", s.OSDMap.NumOSDs, s.OSDMap.NumUpOSDs)
	})

	bundle, cert := selfSignedPEM(t, h.Addr)
	const sslPort = 8443
	apply(map[string]any{"service_type": "nfs", "service_id": "foo", "placement": map[string]any{"hosts": []any{h.Name}}},
		map[string]any{"service_type": "rgw", "service_id": "s", "placement": map[string]any{"hosts": []any{h.Name}},
			"spec": map[string]any{"ssl": true, "rgw_frontend_port": sslPort, "rgw_frontend_ssl_certificate": bundle}})

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	nfsAddr := netip.AddrPortFrom(netip.MustParseAddr(h.Addr), nfsDefaultPort).String()
	rgwURL := "https://" + net.JoinHostPort(h.Addr, strconv.Itoa(sslPort)) + "/"
	var rgwBody string
	converge("nfs and rgw ssl", 8*time.Minute, func() (bool, string) {
		var msgs []string
		nfsUp := false
		if c, err := net.DialTimeout("tcp", nfsAddr, 2*time.Second); err == nil {
			c.Close()
			nfsUp = true
		} else {
			msgs = append(msgs, "nfs: "+err.Error())
		}
		rgwUp := false
		if resp, err := hc.Get(rgwURL); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			rgwBody = string(b)
			rgwUp = resp.StatusCode == http.StatusOK
			msgs = append(msgs, fmt.Sprintf("rgw: %s", resp.Status))
		} else {
			msgs = append(msgs, "rgw: "+err.Error())
		}
		return nfsUp && rgwUp, strings.Join(msgs, "; ")
	})
	t.Logf("rgw answered %s over TLS (verified against the spec's certificate): %.120s", rgwURL, rgwBody)
	// The daemons as deployed are what their specs ask for: passes go
	// idle (no reconfig loop on ganesha.conf or the frontends).
	passes := 0
	for passes < 6 && r.Pass(ctx) {
		passes++
	}
	if passes == 6 {
		t.Errorf("still changing after %d passes: %v", passes, r.lastPlaceFails())
	}

	ds, err := r.ListDaemons(api.DaemonFilter{ServiceName: "nfs.foo"})
	if err != nil || len(ds) != 1 {
		t.Fatalf("nfs.foo daemons: %v, %v", ds, err)
	}
	nfs := ds[0]
	if !strings.HasPrefix(nfs.DaemonID, "foo.0.") || len(nfs.Ports) != 1 || nfs.Ports[0] != nfsDefaultPort {
		t.Errorf("nfs daemon %s ports %v: want foo.0.<gen>.<host>.<random> on 2049", nfs.DaemonID, nfs.Ports)
	}
	// ganesha's own word that it serves (it logs to stderr, which podman
	// logs replays on its stderr).
	ctr := containers.ContainerName(st.FSID, "nfs."+nfs.DaemonID)
	logs, err := e.lab.Exec(ctx, h.Name, "sh", "-c", `podman logs "$1" 2>&1`, "sh", ctr)
	if !strings.Contains(string(logs), "NFS SERVER INITIALIZED") {
		t.Errorf("no NFS SERVER INITIALIZED in ganesha's log (%v):\n%s", err, logs)
	}
	for _, l := range strings.Split(string(logs), "\n") {
		if strings.Contains(l, "INITIALIZED") || strings.Contains(l, "rados") || strings.Contains(l, "RADOS") {
			t.Logf("ganesha: %s", l)
		}
	}
	entity := "client.nfs." + nfs.DaemonID
	var auth []struct {
		Caps map[string]string `json:"caps"`
	}
	if err := e.ctl.CephJSON(ctx, &auth, "auth", "get", entity); err != nil || len(auth) != 1 ||
		auth[0].Caps["osd"] != "allow rw pool=.nfs namespace=foo" || auth[0].Caps["mon"] != "allow r" {
		t.Errorf("auth get %s: %+v, %v", entity, auth, err)
	}
	objs, err := e.ctl.adminImageScript(ctx, `rados -p "$1" -N "$2" ls; ganesha-rados-grace --pool "$1" --ns "$2" dump`, nfsPool, "foo")
	if err != nil || !strings.Contains(string(objs), "conf-nfs.foo") || !strings.Contains(string(objs), "grace") {
		t.Errorf("objects in .nfs/foo: %q, %v", objs, err)
	}
	t.Logf(".nfs/foo objects and grace table:\n%s", objs)
	apps, _ := e.ctl.CephCommand(ctx, "osd", "pool", "application", "get", nfsPool)
	if !strings.Contains(string(apps), "nfs") {
		t.Errorf("application of %s: %s", nfsPool, apps)
	}

	// A second nfs service on the host cannot have 2049.
	apply(map[string]any{"service_type": "nfs", "service_id": "bar", "placement": map[string]any{"hosts": []any{h.Name}}})
	r.Pass(ctx)
	fails := strings.Join(r.lastPlaceFails(), "\n")
	if !strings.Contains(fails, "TCP Port(s) '2049' required for nfs already in use by nfs.foo.") {
		t.Errorf("second nfs service on %s: placement failures %q, want a port conflict", h.Name, fails)
	}
	if _, err := r.RemoveService("nfs.bar", false); err != nil {
		t.Fatal(err)
	}

	// Removing the services removes the nfs key and the certificate.
	for _, svc := range []string{"nfs.foo", "rgw.s"} {
		if _, err := r.RemoveService(svc, false); err != nil {
			t.Fatal(err)
		}
	}
	converge("services removed", 4*time.Minute, func() (bool, string) {
		_, authErr := e.ctl.CephCommand(ctx, "auth", "get", entity)
		_, certErr := e.ctl.CephCommand(ctx, "config-key", "get", rgwCertKey("rgw.s"))
		var ce1, ce2 *CephError
		gone := errors.As(authErr, &ce1) && ce1.Errno() == syscall.ENOENT && errors.As(certErr, &ce2) && ce2.Errno() == syscall.ENOENT
		left, _ := r.ListDaemons(api.DaemonFilter{})
		var names []string
		for _, d := range left {
			if d.DaemonType == "nfs" || d.DaemonType == "rgw" {
				names = append(names, d.DaemonName)
			}
		}
		return gone && len(names) == 0, fmt.Sprintf("auth get: %v; config-key get: %v; nfs/rgw daemons %v", authErr, certErr, names)
	})
	if c, err := net.DialTimeout("tcp", nfsAddr, 2*time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the nfs service was removed", nfsAddr)
	}

	// An image without ganesha (an empty one) is refused with a clear
	// message in the service's events (`orch ls`), and no key is left.
	const empty = "localhost/orch-empty:1"
	if out, err := e.lab.Exec(ctx, h.Name, "sh", "-c", `tar cf - --files-from /dev/null | podman import -q - "$1"`, "sh", empty); err != nil {
		t.Fatalf("make an empty image: %v\n%s", err, out)
	}
	if err := e.st.SetSetting("mgr/cephadm/container_image_nfs", empty); err != nil {
		t.Fatal(err)
	}
	apply(map[string]any{"service_type": "nfs", "service_id": "noimg", "placement": map[string]any{"hosts": []any{h.Name}}})
	r.Pass(ctx)
	want := "nfs is not available in this image (" + empty + "): no /usr/bin/ganesha.nfsd"
	svcs, err := r.ListServices(api.ServiceFilter{ServiceName: "nfs.noimg"})
	if err != nil || len(svcs) != 1 || !strings.Contains(strings.Join(svcs[0].Events, "\n"), want) {
		t.Errorf("nfs.noimg: %+v, %v; want an event with %q", svcs, err, want)
	} else {
		t.Logf("nfs.noimg events: %q", svcs[0].Events)
	}
	if b, err := e.ctl.CephCommand(ctx, "auth", "ls"); err != nil || strings.Contains(string(b), "client.nfs.noimg") {
		t.Errorf("auth ls after the refused deploy (%v):\n%s", err, b)
	}
}
