package store

import (
	"encoding/binary"
	"fmt"
	"time"
)

// OSDRemoval is one entry of cephadm's OSD removal queue ("orch osd rm").
// Its JSON keys are those of cephadm's OSD.to_json, plus no_destroy and the
// last PG count the controller saw; new fields are optional so that older
// records decode.
type OSDRemoval struct {
	OSDID     int    `json:"osd_id"`
	Hostname  string `json:"hostname"`
	Replace   bool   `json:"replace"`
	Force     bool   `json:"force"`
	Zap       bool   `json:"zap"`
	NoDestroy bool   `json:"no_destroy"`
	Started   bool   `json:"started"`
	Draining  bool   `json:"draining"`
	// Stopped is set by "osd rm stop" (cephadm keeps it on the OSD object;
	// the entry itself is dropped from the queue).
	Stopped bool `json:"stopped,omitempty"`
	// OriginalWeight is the CRUSH weight before draining, restored on "osd rm stop".
	OriginalWeight   *float64   `json:"original_weight,omitempty"`
	ProcessStartedAt *time.Time `json:"process_started_at,omitempty"`
	DrainStartedAt   *time.Time `json:"drain_started_at,omitempty"`
	DrainStoppedAt   *time.Time `json:"drain_stopped_at,omitempty"`
	DrainDoneAt      *time.Time `json:"drain_done_at,omitempty"`
	// PGCount is the OSD's PG count at the last pass (`osd df`); nil when
	// unknown.
	PGCount *int `json:"pg_count,omitempty"`
}

func osdKey(id int) ([]byte, error) {
	if id < 0 {
		return nil, fmt.Errorf("osd id %d: %w", id, ErrInvalid)
	}
	return u64key(uint64(id)), nil
}

// PutOSDRemoval queues (or updates) the removal of r.OSDID.
func (tx *Tx) PutOSDRemoval(r OSDRemoval) error {
	key, err := osdKey(r.OSDID)
	if err != nil {
		return fmt.Errorf("store: put osd removal: %w", err)
	}
	b, err := tx.mustBucket(bucketOSDQueue)
	if err == nil {
		err = putJSON(b, key, r)
	}
	if err != nil {
		return fmt.Errorf("store: put osd removal osd.%d: %w", r.OSDID, err)
	}
	return nil
}

// GetOSDRemoval returns the queued removal of osd.id or ErrNotFound.
func (tx *Tx) GetOSDRemoval(id int) (OSDRemoval, error) {
	var r OSDRemoval
	key, err := osdKey(id)
	if err != nil {
		return r, fmt.Errorf("store: get osd removal: %w", err)
	}
	b, err := tx.mustBucket(bucketOSDQueue)
	if err != nil {
		return r, fmt.Errorf("store: get osd removal osd.%d: %w", id, err)
	}
	ok, err := getJSON(b, key, &r)
	if err != nil {
		return r, fmt.Errorf("store: get osd removal osd.%d: %w", id, err)
	}
	if !ok {
		return r, fmt.Errorf("store: get osd removal osd.%d: %w", id, ErrNotFound)
	}
	return r, nil
}

// ListOSDRemovals returns the queue ordered by OSD id.
func (tx *Tx) ListOSDRemovals() ([]OSDRemoval, error) {
	b, err := tx.mustBucket(bucketOSDQueue)
	if err != nil {
		return nil, fmt.Errorf("store: list osd removals: %w", err)
	}
	var out []OSDRemoval
	err = b.ForEach(func(k, v []byte) error {
		var r OSDRemoval
		if err := decodeJSON(k, v, &r); err != nil {
			return err
		}
		if uint64(r.OSDID) != binary.BigEndian.Uint64(k) {
			return fmt.Errorf("osd removal key %d holds osd.%d: %w", binary.BigEndian.Uint64(k), r.OSDID, ErrCorrupt)
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list osd removals: %w", err)
	}
	return out, nil
}

// DeleteOSDRemoval dequeues osd.id; ErrNotFound if it is not queued.
func (tx *Tx) DeleteOSDRemoval(id int) error {
	key, err := osdKey(id)
	if err != nil {
		return fmt.Errorf("store: delete osd removal: %w", err)
	}
	b, err := tx.mustBucket(bucketOSDQueue)
	if err != nil {
		return fmt.Errorf("store: delete osd removal osd.%d: %w", id, err)
	}
	if b.Get(key) == nil {
		return fmt.Errorf("store: delete osd removal osd.%d: %w", id, ErrNotFound)
	}
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("store: delete osd removal osd.%d: %w", id, err)
	}
	return nil
}
