package orchestrator

// RGW over TLS (cephadm's RgwService.config): a spec with ssl: true and
// rgw_frontend_ssl_certificate (PEM certificate and key, one string or a
// list of lines) stores the PEM in the monitors' config-key store as
// rgw/cert/<service name>, which the daemons' frontends name
// (ssl_certificate=config://rgw/cert/<service name>; beast reads the key
// from the same PEM). The PEM holds a private key: it travels on the ceph
// CLI's stdin only, never in an argv or a log. Purging the service
// removes it.

import (
	"context"
	"strings"

	"github.com/orchceph/orch/spec"
)

// rgwCertKey is the config-key holding a service's certificate.
func rgwCertKey(serviceName string) string { return "rgw/cert/" + serviceName }

// rgwCertificate is the spec's rgw_frontend_ssl_certificate as one PEM
// text ("" when unset); a list is joined with newlines, as cephadm does.
func rgwCertificate(s *spec.ServiceSpec) string {
	v, ok := s.Field("rgw_frontend_ssl_certificate")
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, "\n")
	case []any:
		return strings.Join(anyStrings(x), "\n")
	}
	return ""
}

// storeRGWCert puts an ssl spec's certificate in the config-key store
// before its daemons start. Without a certificate in the spec the key is
// left alone (it may have been set by hand, as cephadm allows).
func (r *Reconciler) storeRGWCert(ctx context.Context, s *spec.ServiceSpec) error {
	f, ok := s.RGW()
	if !ok || !f.SSL {
		return nil
	}
	pem := rgwCertificate(s)
	if pem == "" {
		return nil
	}
	if _, err := r.ceph(ctx, cephCall{stdin: []byte(pem)}, "config-key", "set", rgwCertKey(s.ServiceName()), "-i", "-"); err != nil {
		return err
	}
	return nil
}

// purgeRGW is cephadm's RgwService.purge: the realm, zonegroup and zone
// settings of client.rgw.<service id> and the certificate go.
func (r *Reconciler) purgeRGW(ctx context.Context, serviceName, serviceID string) {
	who := "client.rgw." + serviceID
	for _, name := range []string{"rgw_realm", "rgw_zonegroup", "rgw_zone"} {
		if _, err := r.CephCommand(ctx, "config", "rm", who, name); err != nil {
			r.lg.Warn().Err(err).Str("service", serviceName).Str("option", name).Msg("remove rgw setting")
		}
	}
	if _, err := r.CephCommand(ctx, "config-key", "rm", rgwCertKey(serviceName)); err != nil {
		r.lg.Warn().Err(err).Str("service", serviceName).Msg("remove the rgw certificate")
	}
}
