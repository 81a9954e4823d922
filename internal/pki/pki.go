// Package pki is the controller's small certificate authority: one ECDSA
// P-256 CA that signs the TCP API's server certificate (`orch serve
// --tls-auto`) and the client certificates of the ceph-mgr module, so that
// a mgr deployed by orch can reach the controller over mutual TLS without
// an operator-run PKI.
//
// Invariant: pure apart from crypto/rand; it never writes files and never
// prints key material. Callers keep the CA key (PEM) where secrets belong
// (the store's secrets bucket).
package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Validity periods. The server certificate is issued again at every start
// of the controller; a client certificate at every (re)deploy of its mgr.
const (
	CAValidity     = 20 * 365 * 24 * time.Hour
	ServerValidity = 2 * 365 * 24 * time.Hour
	ClientValidity = 5 * 365 * 24 * time.Hour
	// backdate covers small clock differences between the controller and
	// the hosts.
	backdate = 5 * time.Minute
)

// ErrInvalid marks unusable PEM input.
var ErrInvalid = errors.New("pki: invalid certificate or key")

// CA is a certificate authority: its certificate and private key.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// certPEM is Cert in PEM.
	certPEM []byte
}

// NewCA creates a self-signed CA named commonName, valid from now.
func NewCA(commonName string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"orch"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, key: key, certPEM: pemBlock("CERTIFICATE", der)}, nil
}

// Parse loads a CA from its certificate and key in PEM.
func Parse(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%w: %s is not a CA certificate", ErrInvalid, cert.Subject.CommonName)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, fmt.Errorf("%w: no PEM key", ErrInvalid)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrInvalid, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("%w: the key does not match the CA certificate", ErrInvalid)
	}
	return &CA{Cert: cert, key: key, certPEM: bytes.Clone(certPEM)}, nil
}

// ParseCertificate decodes the first certificate of a PEM text.
func ParseCertificate(certPEM []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: no PEM certificate", ErrInvalid)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return cert, nil
}

// CertPEM is the CA certificate (public).
func (ca *CA) CertPEM() []byte { return bytes.Clone(ca.certPEM) }

// KeyPEM is the CA's private key (SEC 1, "EC PRIVATE KEY"): a secret.
func (ca *CA) KeyPEM() ([]byte, error) { return keyPEM(ca.key) }

// Pool is a pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// IssueServer issues a server certificate for the given addresses and
// names (at least one), valid from now. The key is new.
func (ca *CA) IssueServer(ips []net.IP, dnsNames []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	if len(ips) == 0 && len(dnsNames) == 0 {
		return nil, nil, errors.New("pki: a server certificate needs an IP address or a DNS name")
	}
	cn := ""
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	} else {
		cn = ips[0].String()
	}
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{"orch"}},
		NotAfter:    now.Add(ServerValidity),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: ips,
		DNSNames:    dnsNames,
	}, now)
}

// IssueClient issues a client certificate for commonName (for example
// "mgr.h1.abcdef"), valid from now. The key is new.
func (ca *CA) IssueClient(commonName string, now time.Time) (certPEM, keyPEM []byte, err error) {
	if commonName == "" {
		return nil, nil, errors.New("pki: a client certificate needs a common name")
	}
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: []string{"orch"}},
		NotAfter:    now.Add(ClientValidity),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, now)
}

func (ca *CA) issue(tmpl *x509.Certificate, now time.Time) (certPEM, kPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if tmpl.SerialNumber, err = newSerial(); err != nil {
		return nil, nil, err
	}
	tmpl.NotBefore = now.Add(-backdate)
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	if kPEM, err = keyPEM(key); err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), kPEM, nil
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pemBlock("EC PRIVATE KEY", der), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// newSerial is a random 128-bit serial number (RFC 5280: positive, at
// most 20 octets).
func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}
