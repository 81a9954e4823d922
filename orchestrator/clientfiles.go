package orchestrator

// Client files (cephadm's _write_client_files with the default client
// keyring placement, label:_admin): every reachable host labelled _admin
// gets /etc/ceph/ceph.conf (the cluster's current minimal conf, so its
// mon_host follows the monitors the reconciler adds and removes) and the
// client.admin keyring (0600, on stdin only). A host that loses the label
// loses the files (only when they name this cluster's fsid). What was
// written is remembered per host as a digest in the settings bucket, so a
// pass only writes when the conf, the keyring or the label changed, and a
// controller restart does not forget which hosts have the files.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sort"

	"github.com/orchceph/orch/store"
)

// clientFilesSetting is the settings key prefix of the digest of the files
// written on a host.
const clientFilesSetting = "client_files/"

// clientFilesDigest identifies what the files of one host hold.
func clientFilesDigest(conf string, keyring []byte) string {
	h := sha256.New()
	h.Write([]byte(conf))
	h.Write([]byte{0})
	h.Write(keyring)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// clientFileHosts returns the hosts that should have the files (reachable,
// labelled _admin) and those that still have them but should not.
func clientFileHosts(hosts []store.Host, written map[string]string, unreachable func(string) bool) (want, drop []string) {
	exists := map[string]bool{}
	for _, h := range hosts {
		exists[h.Name] = true
		if h.Status == "offline" || h.Status == "maintenance" || unreachable(h.Name) {
			continue
		}
		if slices.Contains(h.Labels, AdminLabel) {
			want = append(want, h.Name)
		} else if _, ok := written[h.Name]; ok {
			drop = append(drop, h.Name)
		}
	}
	// Files on a host that is no longer managed stay there (cephadm
	// leaves them too); only the record goes.
	for name := range written {
		if !exists[name] {
			drop = append(drop, name)
		}
	}
	sort.Strings(want)
	sort.Strings(drop)
	return want, drop
}

// syncClientFiles writes or removes the client files where they differ
// from what the hosts' labels and the cluster's conf ask for. It does
// nothing before bootstrap (no client.admin keyring in the store).
func (p *pass) syncClientFiles() {
	keyring, err := p.r.st.GetSecret(store.KeyringSecret("client.admin"))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.r.lg.Warn().Err(err).Msg("client files: read the client.admin keyring")
		}
		return
	}
	written := p.v.clientFiles // read with the view's settings scan
	want, drop := clientFileHosts(p.v.hosts, written, p.v.unreachable)
	var todo []string
	var env *cephEnv
	for _, name := range want {
		if env == nil {
			if env, err = p.cephEnv(); err != nil {
				return // logged by cephEnv; the next pass tries again
			}
		}
		if written[name] != clientFilesDigest(env.conf, []byte(keyring)) {
			todo = append(todo, name)
		}
	}
	if len(todo) == 0 && len(drop) == 0 {
		return
	}
	var digest string
	if env != nil {
		digest = clientFilesDigest(env.conf, []byte(keyring))
	}
	forEachHost(p, todo, func(h string) string { return h }, func(name string) {
		h := p.v.host[name]
		if h == nil {
			return
		}
		if err := p.r.writeAdminFiles(p.ctx, *h, env.conf, []byte(keyring)); err != nil {
			p.r.lg.Warn().Err(err).Str("host", name).Msg("client files: write")
			return
		}
		if err := p.r.st.Update(func(tx *store.Tx) error { return tx.SetSetting(clientFilesSetting+name, digest) }); err != nil {
			p.r.lg.Warn().Err(err).Str("host", name).Msg("client files: record")
			return
		}
		p.r.lg.Info().Str("host", name).Msg("Updating " + CephConfPath + " and the client.admin keyring")
	})
	forEachHost(p, drop, func(h string) string { return h }, func(name string) {
		if h := p.v.host[name]; h != nil {
			if err := p.r.removeAdminFiles(p.ctx, *h, p.v.cluster.FSID); err != nil {
				p.r.lg.Warn().Err(err).Str("host", name).Msg("client files: remove")
				return
			}
			p.r.lg.Info().Str("host", name).Msg("Removing " + CephConfPath + " and the client.admin keyring (no " + AdminLabel + " label)")
		}
		if err := p.r.st.Update(func(tx *store.Tx) error { return tx.DeleteSetting(clientFilesSetting + name) }); err != nil {
			p.r.lg.Warn().Err(err).Str("host", name).Msg("client files: record")
		}
	})
}
