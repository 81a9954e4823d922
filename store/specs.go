package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// RankMap is cephadm's per-service rank bookkeeping:
// rank → generation → daemon name (nil while the slot is being filled).
type RankMap map[int]map[int]*string

// SpecRecord is one stored service spec. The spec body is kept as the JSON
// the spec package produced; the store does not interpret it.
type SpecRecord struct {
	ServiceName string          `json:"service_name"`
	Spec        json.RawMessage `json:"spec"`
	Created     time.Time       `json:"created"`
	// Deleted is set by MarkSpecDeleted ("orch rm"): the reconciler removes the
	// service's daemons, then calls PurgeSpec.
	Deleted *time.Time `json:"deleted,omitempty"`
	RankMap RankMap    `json:"rank_map,omitempty"`
	// NeedsConfiguration mirrors cephadm's needs-configuration flag.
	NeedsConfiguration bool `json:"needs_configuration,omitempty"`
}

// PutSpec inserts or replaces a spec. A zero Created keeps the stored value,
// or is set to now for a new spec.
func (tx *Tx) PutSpec(r SpecRecord) error {
	if err := checkKey("service name", r.ServiceName); err != nil {
		return fmt.Errorf("store: put spec: %w", err)
	}
	if err := checkJSON("spec body", r.Spec); err != nil {
		return fmt.Errorf("store: put spec %q: %w", r.ServiceName, err)
	}
	b, err := tx.mustBucket(bucketSpecs)
	if err != nil {
		return fmt.Errorf("store: put spec %q: %w", r.ServiceName, err)
	}
	if r.Created.IsZero() {
		var old SpecRecord
		ok, err := getJSON(b, []byte(r.ServiceName), &old)
		if err != nil {
			return fmt.Errorf("store: put spec %q: %w", r.ServiceName, err)
		}
		r.Created = old.Created
		if !ok {
			r.Created = tx.now()
		}
	}
	if err := putJSON(b, []byte(r.ServiceName), r); err != nil {
		return fmt.Errorf("store: put spec %q: %w", r.ServiceName, err)
	}
	return nil
}

// GetSpec returns the named spec (deleted or not) or ErrNotFound.
func (tx *Tx) GetSpec(serviceName string) (SpecRecord, error) {
	var r SpecRecord
	b, err := tx.mustBucket(bucketSpecs)
	if err != nil {
		return r, fmt.Errorf("store: get spec %q: %w", serviceName, err)
	}
	ok, err := getJSON(b, []byte(serviceName), &r)
	if err != nil {
		return r, fmt.Errorf("store: get spec %q: %w", serviceName, err)
	}
	if !ok {
		return r, fmt.Errorf("store: get spec %q: %w", serviceName, ErrNotFound)
	}
	return r, nil
}

// ListSpecs returns every spec, including those marked deleted, sorted by
// service name.
func (tx *Tx) ListSpecs() ([]SpecRecord, error) {
	b, err := tx.mustBucket(bucketSpecs)
	if err != nil {
		return nil, fmt.Errorf("store: list specs: %w", err)
	}
	var out []SpecRecord
	err = b.ForEach(func(k, v []byte) error {
		var r SpecRecord
		if err := decodeJSON(k, v, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list specs: %w", err)
	}
	return out, nil
}

// MarkSpecDeleted records when the spec was deleted (now if at is zero). A
// spec already marked keeps its first deletion time.
func (tx *Tx) MarkSpecDeleted(serviceName string, at time.Time) error {
	r, err := tx.GetSpec(serviceName)
	if err != nil {
		return err
	}
	if r.Deleted != nil {
		return nil
	}
	if at.IsZero() {
		at = tx.now()
	}
	at = at.UTC()
	r.Deleted = &at
	return tx.PutSpec(r)
}

// PurgeSpec removes the spec record; ErrNotFound if there is none.
func (tx *Tx) PurgeSpec(serviceName string) error {
	return tx.deleteKey(bucketSpecs, "spec", serviceName)
}
