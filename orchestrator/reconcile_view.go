package orchestrator

import (
	"encoding/json"
	"errors"
	"hash/maphash"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/scheduler"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

// view is one consistent read of the store (a single bbolt transaction)
// with the daemon caches decoded and the reconciler's provisional changes
// laid over them. Every listing and every reconcile pass works on a view.
type view struct {
	cluster store.Cluster
	hosts   []store.Host // sorted by name
	host    map[string]*store.Host
	// refreshed is when each host's daemons were last listed (zero: never).
	refreshed map[string]time.Time
	networks  map[string]scheduler.HostNetworks
	devices   map[string]json.RawMessage
	// daemons are ordered by host, then as the host listed them.
	daemons   []daemonRecord
	byService map[string][]int
	// specs are sorted by service name; deleted ones included.
	specs  []*specEntry
	byName map[string]*specEntry
	ops    []store.Operation
	// badEntries counts cached daemon entries that did not decode.
	badEntries int
	// digests are the config digests recorded at deploy time, by daemon
	// name (settings daemon_config/<name>).
	digests map[string]string

	// clientFiles are the digests of the /etc/ceph client files written
	// on each host (settings client_files/<host>; with digests).
	clientFiles map[string]string

	// monPublicNetwork is the public network bootstrap chose or was
	// given (mon public_network), "" when unknown.
	monPublicNetwork string

	daemonEvents  map[string][]string
	serviceEvents map[string][]string
}

// specEntry is one stored spec, parsed.
type specEntry struct {
	rec  store.SpecRecord
	spec *spec.ServiceSpec // nil when the stored body no longer parses
	err  error
}

func (e *specEntry) deleted() bool { return e.rec.Deleted != nil }

// managed reports whether the reconciler places the service's daemons.
func (e *specEntry) managed() bool { return e.spec != nil && !e.spec.Unmanaged && e.rec.Deleted == nil }

type viewOptions struct {
	events  bool // load event strings of every daemon and service
	ops     bool // load operations
	devices bool // keep device inventories
	digests bool // load the recorded config digests (reconcile passes)
}

// hostDecode memoises one host's decoded daemon list: the cache entry's
// bytes only change with a refresh, and `orch ps` over many hosts must not
// decode them all again each time.
type hostDecode struct {
	sum  uint64
	n    int
	at   time.Time
	recs []daemonRecord
	bad  int
}

// hostDaemons decodes a host's cached daemons, reusing the last decoding
// when the entry is byte-for-byte the same. The result is the caller's.
func (r *Reconciler) hostDaemons(host, fsid string, data []byte, refreshed time.Time) ([]daemonRecord, int) {
	sum := maphash.Bytes(decodeSeed, data)
	r.decMu.Lock()
	m, ok := r.decoded[host]
	r.decMu.Unlock()
	if ok && m.sum == sum && m.n == len(data) && m.at.Equal(refreshed) {
		return slices.Clone(m.recs), m.bad
	}
	recs, bad := decodeHostDaemons(host, fsid, data, refreshed)
	r.decMu.Lock()
	if len(r.decoded) > 4*len(r.bins)+100000 {
		clear(r.decoded) // hosts come and go; never grow without bound
	}
	r.decoded[host] = hostDecode{sum: sum, n: len(data), at: refreshed, recs: slices.Clone(recs), bad: bad}
	r.decMu.Unlock()
	return recs, bad
}

var decodeSeed = maphash.MakeSeed()

// unreachable reports whether a host is offline or in maintenance.
func (v *view) unreachable(host string) bool {
	h := v.host[host]
	if h == nil {
		return true
	}
	st := strings.ToLower(h.Status)
	return st == scheduler.StatusOffline || st == scheduler.StatusMaintenance
}

func (v *view) hostStatus(host string) string {
	if h := v.host[host]; h != nil {
		return strings.ToLower(h.Status)
	}
	return ""
}

// loadView reads the store in one transaction.
func (r *Reconciler) loadView(o viewOptions) (*view, error) {
	v := &view{host: map[string]*store.Host{}, refreshed: map[string]time.Time{},
		networks: map[string]scheduler.HostNetworks{}, byService: map[string][]int{}, byName: map[string]*specEntry{}}
	var recs []store.SpecRecord
	err := r.st.View(func(tx *store.Tx) error {
		var err error
		if v.cluster, err = tx.GetCluster(); err != nil {
			return err
		}
		if rec, err := loadBootstrapRecord(tx); err != nil {
			return err
		} else if rec != nil {
			v.monPublicNetwork = rec.PublicNetwork
		}
		if v.hosts, err = tx.ListHosts(); err != nil {
			return err
		}
		for i := range v.hosts {
			v.host[v.hosts[i].Name] = &v.hosts[i]
		}
		// Facts are large and not needed here: copy only what is used.
		kinds := []store.CacheKind{store.CacheDaemons, store.CacheNetworks}
		if o.devices {
			kinds = append(kinds, store.CacheDevices)
		}
		caches, err := tx.ListHostCachesOf(kinds...)
		if err != nil {
			return err
		}
		byHost := make(map[string]*store.HostCache, len(caches))
		for i := range caches {
			byHost[caches[i].Host] = &caches[i]
		}
		// Daemon descriptions are large: collect each host's, then copy
		// them into one slice allocated once (growing it host by host
		// was most of the cost of orch ps at 1,000 hosts).
		perHost := make([][]daemonRecord, 0, len(v.hosts))
		total := 0
		for _, h := range v.hosts {
			c := byHost[h.Name]
			if c == nil {
				continue
			}
			v.refreshed[h.Name] = c.Daemons.Refreshed
			ds, bad := r.hostDaemons(h.Name, v.cluster.FSID, c.Daemons.Data, c.Daemons.Refreshed)
			v.badEntries += bad
			perHost = append(perHost, ds)
			total += len(ds)
			if len(c.Networks.Data) > 0 {
				var n scheduler.HostNetworks
				if json.Unmarshal(c.Networks.Data, &n) == nil {
					v.networks[h.Name] = n
				}
			}
			if o.devices && len(c.Devices.Data) > 0 {
				if v.devices == nil {
					v.devices = map[string]json.RawMessage{}
				}
				v.devices[h.Name] = c.Devices.Data
			}
		}
		v.daemons = make([]daemonRecord, 0, total)
		for _, ds := range perHost {
			v.daemons = append(v.daemons, ds...)
		}
		if recs, err = tx.ListSpecs(); err != nil {
			return err
		}
		v.digests = map[string]string{}
		if o.digests {
			settings, err := tx.ListSettings()
			if err != nil {
				return err
			}
			v.clientFiles = map[string]string{}
			for _, st := range settings {
				if name, ok := strings.CutPrefix(st.Name, daemonConfigPrefix); ok {
					v.digests[name] = st.Value
				} else if host, ok := strings.CutPrefix(st.Name, clientFilesSetting); ok {
					v.clientFiles[host] = st.Value
				}
			}
		}
		if o.ops {
			if v.ops, err = tx.ListOperations(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range v.daemons {
		if d := &v.daemons[i]; d.ConfigDigest == "" {
			d.ConfigDigest = v.digests[d.name()]
		}
	}
	r.overlay(v)
	for i := range v.daemons {
		v.byService[v.daemons[i].ServiceName] = append(v.byService[v.daemons[i].ServiceName], i)
	}
	for _, rec := range recs {
		e := &specEntry{rec: rec}
		e.spec, e.err = parseStoredSpec(rec.Spec)
		v.specs = append(v.specs, e)
		v.byName[rec.ServiceName] = e
	}
	r.markHostStatus(v)
	if o.events {
		if err := r.loadEvents(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// markHostStatus sets what cephadm shows for daemons of unreachable hosts:
// error "host is offline", or stopped for hosts in maintenance.
func (r *Reconciler) markHostStatus(v *view) {
	for i := range v.daemons {
		d := &v.daemons[i]
		switch v.hostStatus(d.Hostname) {
		case scheduler.StatusOffline:
			st := api.StatusError
			d.Status, d.StatusDesc = &st, "host is offline"
		case scheduler.StatusMaintenance:
			st := api.StatusStopped
			d.Status, d.StatusDesc = &st, "stopped"
		}
	}
}

func (r *Reconciler) loadEvents(v *view) error {
	v.daemonEvents = map[string][]string{}
	v.serviceEvents = map[string][]string{}
	return r.st.View(func(tx *store.Tx) error {
		for i := range v.daemons {
			n := v.daemons[i].name()
			es, err := tx.ListEvents(store.EventDaemon, n)
			if err != nil {
				return err
			}
			if len(es) > 0 {
				v.daemonEvents[n] = formatEvents(es)
			}
		}
		names := map[string]bool{}
		for _, e := range v.specs {
			names[e.rec.ServiceName] = true
		}
		for svc := range v.byService {
			names[svc] = true
		}
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		for _, n := range sorted {
			es, err := tx.ListEvents(store.EventService, n)
			if err != nil {
				return err
			}
			if len(es) > 0 {
				v.serviceEvents[n] = formatEvents(es)
			}
		}
		return nil
	})
}

// daemonConfigPrefix starts the settings that record, per daemon, the
// config digest it was last deployed or reconfigured with (cephadm keeps
// daemon_config_deps in the mgr's store the same way): the host's `ls`
// carries it in unit.meta too, but the controller's record is what counts.
const daemonConfigPrefix = "daemon_config/"

// recordDigest stores (or, with digest "", forgets) a daemon's digest.
func (r *Reconciler) recordDigest(name, digest string) {
	key := daemonConfigPrefix + name
	err := r.st.Update(func(tx *store.Tx) error {
		if digest == "" {
			if err := tx.DeleteSetting(key); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		}
		return tx.SetSetting(key, digest)
	})
	if err != nil {
		r.lg.Warn().Err(err).Str("daemon", name).Msg("record config digest")
	}
}

// parseStoredSpec parses a stored spec body (its to_json()).
func parseStoredSpec(raw json.RawMessage) (*spec.ServiceSpec, error) {
	docs, err := spec.LoadDocuments(raw)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 || docs[0].Service == nil {
		return nil, errors.New("stored spec is not one service spec")
	}
	return docs[0].Service, nil
}
