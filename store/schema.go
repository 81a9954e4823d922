package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this binary writes. Bump it together with a new
// entry in migrations; never edit a released migration.
const SchemaVersion = 1

// Top-level buckets. The layout of each is documented in README.md.
var (
	bucketMeta      = []byte("meta")       // schema_version → decimal ASCII
	bucketCluster   = []byte("cluster")    // "cluster" → Cluster JSON
	bucketSettings  = []byte("settings")   // name → raw value
	bucketSecrets   = []byte("secrets")    // name → raw secret bytes
	bucketHosts     = []byte("hosts")      // hostname → Host JSON
	bucketSpecs     = []byte("specs")      // service name → SpecRecord JSON
	bucketHostCache = []byte("host_cache") // hostname → bucket{kind → entry, "refresh" → flags JSON}
	bucketEvents    = []byte("events")     // "<kind>:<subject>" → bucket{seq (8-byte BE) → Event JSON}
	bucketOps       = []byte("operations") // id (8-byte BE) → Operation JSON
	bucketOSDQueue  = []byte("osd_removal_queue")
	bucketUpgrade   = []byte("upgrade") // "state" → UpgradeState JSON
)

var (
	keySchemaVersion = []byte("schema_version")
	keyCluster       = []byte("cluster")
	keyUpgradeState  = []byte("state")
	keyRefresh       = []byte("refresh")
)

// migration moves the file from schema version from to from+1. It runs in
// the same transaction as every other pending migration and the version
// bump, so a failure leaves the file exactly as it was.
type migration struct {
	from  int
	name  string
	apply func(btx *bolt.Tx) error
}

// migrations is the registry, ordered by from. Version 0 is a new, empty file.
var migrations = []migration{
	{from: 0, name: "initial layout", apply: createBuckets(
		bucketMeta, bucketCluster, bucketSettings, bucketSecrets, bucketHosts, bucketSpecs,
		bucketHostCache, bucketEvents, bucketOps, bucketOSDQueue, bucketUpgrade)},
}

func createBuckets(names ...[]byte) func(*bolt.Tx) error {
	return func(btx *bolt.Tx) error {
		for _, n := range names {
			if _, err := btx.CreateBucketIfNotExists(n); err != nil {
				return fmt.Errorf("create bucket %s: %w", n, err)
			}
		}
		return nil
	}
}

func readSchemaVersion(btx *bolt.Tx) (int, error) {
	meta := btx.Bucket(bucketMeta)
	if meta == nil {
		// No meta bucket: either a brand-new file or someone else's bbolt file.
		foreign := false
		_ = btx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			foreign = true
			return nil
		})
		if foreign {
			return 0, fmt.Errorf("no schema version but other buckets present; not an orch store: %w", ErrCorrupt)
		}
		return 0, nil
	}
	raw := meta.Get(keySchemaVersion)
	if raw == nil {
		return 0, fmt.Errorf("meta bucket without %s: %w", keySchemaVersion, ErrCorrupt)
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("schema version %q: %w", raw, ErrCorrupt)
	}
	return v, nil
}

func (s *Store) migrate(btx *bolt.Tx, migs []migration) error {
	target := 0
	for _, m := range migs {
		target = max(target, m.from+1)
	}
	v, err := readSchemaVersion(btx)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if v > target {
		return fmt.Errorf("store: open %s: file has schema version %d, this binary understands up to %d; upgrade orch: %w",
			s.path, v, target, ErrSchemaTooNew)
	}
	from := v
	for v < target {
		var m *migration
		for i := range migs {
			if migs[i].from == v {
				m = &migs[i]
				break
			}
		}
		if m == nil {
			return fmt.Errorf("store: open %s: no migration from schema version %d: %w", s.path, v, ErrCorrupt)
		}
		if err := m.apply(btx); err != nil {
			return fmt.Errorf("store: open %s: migrate %d→%d (%s): %w", s.path, v, v+1, m.name, err)
		}
		v++
	}
	if v == from {
		s.log.Debug().Int("schema", v).Msg("store opened")
		return nil
	}
	meta, err := btx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if err := meta.Put(keySchemaVersion, []byte(strconv.Itoa(v))); err != nil {
		return fmt.Errorf("store: open %s: write schema version: %w", s.path, err)
	}
	s.log.Info().Int("from", from).Int("to", v).Msg("store schema migrated")
	return nil
}

// SchemaVersion reports the schema version recorded in the file.
func (tx *Tx) SchemaVersion() (int, error) { return readSchemaVersion(tx.btx) }

// u64key encodes n so that bytewise key order is numeric order.
func u64key(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// mustBucket returns a top-level bucket; migrations guarantee they exist.
func (tx *Tx) mustBucket(name []byte) (*bolt.Bucket, error) {
	b := tx.btx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %s missing: %w", name, ErrCorrupt)
	}
	return b, nil
}

// getJSON decodes key into v inside the transaction. It reports false when
// the key is absent.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	return true, decodeJSON(key, raw, v)
}

// decodeJSON decodes a value read in the current transaction; the result
// shares no memory with raw.
func decodeJSON(key, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %q: %w: %w", key, ErrCorrupt, err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, raw)
}

func checkKey(what, k string) error {
	if k == "" {
		return fmt.Errorf("empty %s: %w", what, ErrInvalid)
	}
	if len(k) > bolt.MaxKeySize {
		return fmt.Errorf("%s longer than %d bytes: %w", what, bolt.MaxKeySize, ErrInvalid)
	}
	return nil
}

func checkJSON(what string, raw json.RawMessage) error {
	if len(raw) == 0 {
		return fmt.Errorf("%s: empty JSON: %w", what, ErrInvalid)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("%s: not valid JSON: %w", what, ErrInvalid)
	}
	return nil
}
