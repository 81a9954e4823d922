package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CacheKind names one part of a host's cached state.
type CacheKind string

// The cached kinds, each refreshed on its own schedule.
const (
	CacheFacts    CacheKind = "facts"
	CacheDaemons  CacheKind = "daemons"
	CacheDevices  CacheKind = "devices"
	CacheNetworks CacheKind = "networks"
)

func (k CacheKind) valid() bool {
	switch k {
	case CacheFacts, CacheDaemons, CacheDevices, CacheNetworks:
		return true
	}
	return false
}

// CacheEntry is one cached probe result: the JSON the host reported and when
// it was taken. A zero Refreshed means never refreshed (Data is then nil).
type CacheEntry struct {
	Data      json.RawMessage
	Refreshed time.Time
}

// RefreshFlags are cephadm's refresh queues for one host: a true flag asks the
// reconciler to re-probe that kind at its next pass.
type RefreshFlags struct {
	Facts    bool `json:"facts,omitempty"`
	Daemons  bool `json:"daemons,omitempty"`
	Devices  bool `json:"devices,omitempty"`
	Networks bool `json:"networks,omitempty"`
}

func (f *RefreshFlags) set(k CacheKind, v bool) {
	switch k {
	case CacheFacts:
		f.Facts = v
	case CacheDaemons:
		f.Daemons = v
	case CacheDevices:
		f.Devices = v
	case CacheNetworks:
		f.Networks = v
	}
}

// HostCache is everything cached for one host.
type HostCache struct {
	Host          string
	Facts         CacheEntry
	Daemons       CacheEntry
	Devices       CacheEntry
	Networks      CacheEntry
	RefreshNeeded RefreshFlags
}

// Entry returns the entry for kind.
func (c *HostCache) Entry(k CacheKind) *CacheEntry {
	switch k {
	case CacheFacts:
		return &c.Facts
	case CacheDaemons:
		return &c.Daemons
	case CacheDevices:
		return &c.Devices
	case CacheNetworks:
		return &c.Networks
	}
	return nil
}

// Cache entries are encoded as an 8-byte big-endian UnixNano timestamp
// followed by the raw JSON body, so that refreshing large facts neither
// re-encodes nor escapes them.
func encodeEntry(data json.RawMessage, at time.Time) []byte {
	buf := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(buf, uint64(at.UnixNano()))
	copy(buf[8:], data)
	return buf
}

func decodeEntry(raw []byte) (CacheEntry, error) {
	if len(raw) < 8 {
		return CacheEntry{}, fmt.Errorf("cache entry of %d bytes: %w", len(raw), ErrCorrupt)
	}
	return CacheEntry{
		Refreshed: time.Unix(0, int64(binary.BigEndian.Uint64(raw))).UTC(),
		Data:      bytes.Clone(raw[8:]),
	}, nil
}

// UpdateHostCache stores data as the host's kind entry, refreshed at the
// given time (now if zero). The host must exist (ErrNotFound otherwise), so a
// probe that finishes after "host rm" cannot resurrect the host's cache. The
// kind's refresh flag is left alone: clear it with SetRefreshNeeded in the
// same transaction when appropriate.
func (tx *Tx) UpdateHostCache(host string, kind CacheKind, data json.RawMessage, refreshed time.Time) error {
	if !kind.valid() {
		return fmt.Errorf("store: update host cache %q: unknown kind %q: %w", host, kind, ErrInvalid)
	}
	if err := checkJSON(string(kind), data); err != nil {
		return fmt.Errorf("store: update host cache %q: %w", host, err)
	}
	if refreshed.IsZero() {
		refreshed = tx.now()
	}
	hb, err := tx.hostCacheBucket(host, "update host cache")
	if err != nil {
		return err
	}
	if err := hb.Put([]byte(kind), encodeEntry(data, refreshed)); err != nil {
		return fmt.Errorf("store: update host cache %q %s: %w", host, kind, err)
	}
	return nil
}

// SetRefreshNeeded sets or clears the host's refresh flag for kind. The host
// must exist.
func (tx *Tx) SetRefreshNeeded(host string, kind CacheKind, needed bool) error {
	if !kind.valid() {
		return fmt.Errorf("store: set refresh flag %q: unknown kind %q: %w", host, kind, ErrInvalid)
	}
	hb, err := tx.hostCacheBucket(host, "set refresh flag")
	if err != nil {
		return err
	}
	var f RefreshFlags
	if _, err := getJSON(hb, keyRefresh, &f); err != nil {
		return fmt.Errorf("store: set refresh flag %q: %w", host, err)
	}
	f.set(kind, needed)
	if err := putJSON(hb, keyRefresh, f); err != nil {
		return fmt.Errorf("store: set refresh flag %q: %w", host, err)
	}
	return nil
}

// hostCacheBucket returns the host's cache bucket, creating it; the host must
// be in the inventory.
func (tx *Tx) hostCacheBucket(host, op string) (*bolt.Bucket, error) {
	hosts, err := tx.mustBucket(bucketHosts)
	if err != nil {
		return nil, fmt.Errorf("store: %s %q: %w", op, host, err)
	}
	if host == "" || hosts.Get([]byte(host)) == nil {
		return nil, fmt.Errorf("store: %s %q: host: %w", op, host, ErrNotFound)
	}
	cache, err := tx.mustBucket(bucketHostCache)
	if err != nil {
		return nil, fmt.Errorf("store: %s %q: %w", op, host, err)
	}
	hb, err := cache.CreateBucketIfNotExists([]byte(host))
	if err != nil {
		return nil, fmt.Errorf("store: %s %q: %w", op, host, err)
	}
	return hb, nil
}

func readHostCache(host string, hb *bolt.Bucket) (HostCache, error) {
	return readHostCacheKinds(host, hb, nil)
}

// readHostCacheKinds reads a host's cache; with a non-nil keep, only the
// kinds in keep get their data copied (every kind gets its refresh time).
func readHostCacheKinds(host string, hb *bolt.Bucket, keep map[CacheKind]bool) (HostCache, error) {
	c := HostCache{Host: host}
	err := hb.ForEach(func(k, v []byte) error {
		if bytes.Equal(k, keyRefresh) {
			if err := json.Unmarshal(v, &c.RefreshNeeded); err != nil {
				return fmt.Errorf("decode refresh flags: %w: %w", ErrCorrupt, err)
			}
			return nil
		}
		e := c.Entry(CacheKind(k))
		if e == nil {
			return nil // a kind from a newer minor layout; ignore
		}
		if keep != nil && !keep[CacheKind(k)] {
			if len(v) < 8 {
				return fmt.Errorf("cache entry of %d bytes: %w", len(v), ErrCorrupt)
			}
			e.Refreshed = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			return nil
		}
		var err error
		*e, err = decodeEntry(v)
		return err
	})
	return c, err
}

// ListHostCachesOf is ListHostCaches copying only the data of the given
// kinds (none: refresh times and flags only). Listings over thousands of
// hosts use it to avoid copying every host's facts.
func (tx *Tx) ListHostCachesOf(kinds ...CacheKind) ([]HostCache, error) {
	keep := make(map[CacheKind]bool, len(kinds))
	for _, k := range kinds {
		keep[k] = true
	}
	cache, err := tx.mustBucket(bucketHostCache)
	if err != nil {
		return nil, fmt.Errorf("store: list host caches: %w", err)
	}
	var out []HostCache
	cur := cache.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v != nil {
			continue
		}
		c, err := readHostCacheKinds(string(k), cache.Bucket(k), keep)
		if err != nil {
			return nil, fmt.Errorf("store: list host caches: %q: %w", k, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// GetHostCache returns the host's cached state. A host in the inventory that
// has never been probed yields an empty HostCache; ErrNotFound means the host
// itself is unknown.
func (tx *Tx) GetHostCache(host string) (HostCache, error) {
	hosts, err := tx.mustBucket(bucketHosts)
	if err != nil {
		return HostCache{}, fmt.Errorf("store: get host cache %q: %w", host, err)
	}
	if host == "" || hosts.Get([]byte(host)) == nil {
		return HostCache{}, fmt.Errorf("store: get host cache %q: host: %w", host, ErrNotFound)
	}
	cache, err := tx.mustBucket(bucketHostCache)
	if err != nil {
		return HostCache{}, fmt.Errorf("store: get host cache %q: %w", host, err)
	}
	hb := cache.Bucket([]byte(host))
	if hb == nil {
		return HostCache{Host: host}, nil
	}
	c, err := readHostCache(host, hb)
	if err != nil {
		return HostCache{}, fmt.Errorf("store: get host cache %q: %w", host, err)
	}
	return c, nil
}

// ListHostCaches returns the cached state of every host that has any, sorted
// by host name.
func (tx *Tx) ListHostCaches() ([]HostCache, error) {
	cache, err := tx.mustBucket(bucketHostCache)
	if err != nil {
		return nil, fmt.Errorf("store: list host caches: %w", err)
	}
	var out []HostCache
	cur := cache.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v != nil {
			continue // only nested buckets live here
		}
		c, err := readHostCache(string(k), cache.Bucket(k))
		if err != nil {
			return nil, fmt.Errorf("store: list host caches: %q: %w", k, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// DeleteHostCache drops everything cached for host; ErrNotFound if nothing is.
func (tx *Tx) DeleteHostCache(host string) error {
	cache, err := tx.mustBucket(bucketHostCache)
	if err != nil {
		return fmt.Errorf("store: delete host cache %q: %w", host, err)
	}
	if host == "" || cache.Bucket([]byte(host)) == nil {
		return fmt.Errorf("store: delete host cache %q: %w", host, ErrNotFound)
	}
	if err := cache.DeleteBucket([]byte(host)); err != nil {
		return fmt.Errorf("store: delete host cache %q: %w", host, err)
	}
	return nil
}
