package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func newTestCA(t *testing.T) *CA {
	t.Helper()
	ca, err := NewCA("orch test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestCARoundTrip(t *testing.T) {
	ca := newTestCA(t)
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != "orch test CA" || !ca.Cert.MaxPathLenZero {
		t.Fatalf("CA certificate %+v", ca.Cert.Subject)
	}
	key, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(ca.CertPEM(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Cert.Equal(ca.Cert) {
		t.Error("parsed CA differs")
	}
	// A certificate issued by the parsed CA verifies against the original.
	c, _, err := back.IssueClient("mgr.x", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(t, ca, c, x509.ExtKeyUsageClientAuth, ""); err != nil {
		t.Error(err)
	}
}

func TestParseRefuses(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	otherKey, _ := other.KeyPEM()
	leaf, leafKey, _ := ca.IssueClient("mgr.x", now)
	for _, tc := range []struct {
		name      string
		cert, key []byte
	}{
		{"empty", nil, nil},
		{"key of another CA", ca.CertPEM(), otherKey},
		{"not a CA", leaf, leafKey},
		{"garbage key", ca.CertPEM(), []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.cert, tc.key); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse = %v, want ErrInvalid", err)
			}
		})
	}
}

// verify checks certPEM against ca for the usage (and the host name or
// IP, for a server certificate).
func verify(t *testing.T, ca *CA, certPEM []byte, usage x509.ExtKeyUsage, host string) error {
	t.Helper()
	c, err := ParseCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}, DNSName: host, CurrentTime: now.Add(time.Hour)})
	return err
}

func TestIssueClient(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	cert, key, err := ca.IssueClient("mgr.h1.abcdef", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(key), "-----BEGIN EC PRIVATE KEY-----") {
		t.Errorf("key PEM header: %.40q", key)
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		t.Errorf("cert and key do not pair: %v", err)
	}
	if err := verify(t, ca, cert, x509.ExtKeyUsageClientAuth, ""); err != nil {
		t.Errorf("client cert does not verify against its CA: %v", err)
	}
	if err := verify(t, other, cert, x509.ExtKeyUsageClientAuth, ""); err == nil {
		t.Error("client cert verifies against another CA")
	}
	if err := verify(t, ca, cert, x509.ExtKeyUsageServerAuth, ""); err == nil {
		t.Error("a client certificate is accepted as a server certificate")
	}
	c, _ := ParseCertificate(cert)
	if c.Subject.CommonName != "mgr.h1.abcdef" || c.IsCA || c.NotAfter.Sub(now) != ClientValidity {
		t.Errorf("client cert: cn %q ca %v validity %v", c.Subject.CommonName, c.IsCA, c.NotAfter.Sub(now))
	}
	if _, _, err := ca.IssueClient("", now); err == nil {
		t.Error("IssueClient without a name succeeded")
	}
	// Serial numbers differ (two certificates for one mgr).
	cert2, _, _ := ca.IssueClient("mgr.h1.abcdef", now)
	c2, _ := ParseCertificate(cert2)
	if c.SerialNumber.Cmp(c2.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
}

func TestIssueServerSANs(t *testing.T) {
	ca := newTestCA(t)
	ips := []net.IP{net.ParseIP("10.77.0.254"), net.ParseIP("127.0.0.1"), net.ParseIP("fd00::1")}
	cert, key, err := ca.IssueServer(ips, []string{"controller", "localhost"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"10.77.0.254", "127.0.0.1", "fd00::1", "controller", "localhost"} {
		if err := verify(t, ca, cert, x509.ExtKeyUsageServerAuth, host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	for _, host := range []string{"10.77.0.1", "other"} {
		if err := verify(t, ca, cert, x509.ExtKeyUsageServerAuth, host); err == nil {
			t.Errorf("%s: verifies, but is not a SAN", host)
		}
	}
	if err := verify(t, ca, cert, x509.ExtKeyUsageClientAuth, ""); err == nil {
		t.Error("the server certificate is accepted as a client certificate")
	}
	if _, _, err := ca.IssueServer(nil, nil, now); err == nil {
		t.Error("IssueServer without names succeeded")
	}
}

// TestMutualTLS: a TLS 1.3 server with the issued server certificate
// accepts a client certificate of its CA and refuses one of another CA.
func TestMutualTLS(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	sc, sk, _ := ca.IssueServer([]net.IP{net.ParseIP("127.0.0.1")}, nil, time.Now())
	srvCert, err := tls.X509KeyPair(sc, sk)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{srvCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_, _ = c.Write([]byte("ok"))
			c.Close()
		}
	}()
	dial := func(issuer *CA) error {
		cc, ck, _ := issuer.IssueClient("mgr.x", time.Now())
		pair, err := tls.X509KeyPair(cc, ck)
		if err != nil {
			return err
		}
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = io.ReadAll(c) // TLS 1.3: a refused client cert shows on the first read
		return err
	}
	if err := dial(ca); err != nil {
		t.Errorf("client of the CA: %v", err)
	}
	if err := dial(other); err == nil {
		t.Error("client of another CA was accepted")
	}
	ln.Close()
	<-done
}
