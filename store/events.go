package store

import (
	"encoding/binary"
	"fmt"
	"time"
)

// EventKind is what an event is about.
type EventKind string

// The event kinds cephadm uses.
const (
	EventService EventKind = "service"
	EventDaemon  EventKind = "daemon"
)

// Event levels.
const (
	LevelInfo  = "INFO"
	LevelError = "ERROR"
)

// Event is cephadm's OrchestratorEvent. Seq orders events of one subject and
// is assigned by AppendEvent.
type Event struct {
	Seq     uint64    `json:"seq"`
	Created time.Time `json:"created"`
	Kind    EventKind `json:"kind"`
	Subject string    `json:"subject"` // service or daemon name
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// eventSubjectKey is the nested bucket of one subject: "service:<name>" or
// "daemon:<name>".
func eventSubjectKey(kind EventKind, subject string) ([]byte, error) {
	if kind != EventService && kind != EventDaemon {
		return nil, fmt.Errorf("event kind %q: %w", kind, ErrInvalid)
	}
	if err := checkKey("event subject", subject); err != nil {
		return nil, err
	}
	return []byte(string(kind) + ":" + subject), nil
}

// AppendEvent stores e after the subject's existing events, filling in Seq,
// Created (if zero) and Level (INFO if empty), and drops the subject's
// oldest events beyond the store's per-subject bound. It returns the stored
// event.
func (tx *Tx) AppendEvent(e Event) (Event, error) {
	key, err := eventSubjectKey(e.Kind, e.Subject)
	if err != nil {
		return Event{}, fmt.Errorf("store: append event: %w", err)
	}
	events, err := tx.mustBucket(bucketEvents)
	if err != nil {
		return Event{}, fmt.Errorf("store: append event %s: %w", key, err)
	}
	sb, err := events.CreateBucketIfNotExists(key)
	if err != nil {
		return Event{}, fmt.Errorf("store: append event %s: %w", key, err)
	}
	seq, err := sb.NextSequence()
	if err != nil {
		return Event{}, fmt.Errorf("store: append event %s: %w", key, err)
	}
	e.Seq = seq
	if e.Created.IsZero() {
		e.Created = tx.now()
	}
	if e.Level == "" {
		e.Level = LevelInfo
	}
	if err := putJSON(sb, u64key(seq), e); err != nil {
		return Event{}, fmt.Errorf("store: append event %s: %w", key, err)
	}
	// Sequences are contiguous (only the oldest are ever deleted), so the
	// count is seq-first+1 without walking the bucket.
	if k, _ := sb.Cursor().First(); k != nil {
		first, limit := binary.BigEndian.Uint64(k), uint64(tx.s.maxEvents)
		for n := first; seq-n+1 > limit; n++ {
			if err := sb.Delete(u64key(n)); err != nil {
				return Event{}, fmt.Errorf("store: trim events %s: %w", key, err)
			}
		}
	}
	return e, nil
}

// ListEvents returns the subject's events, oldest first; none is not an error.
func (tx *Tx) ListEvents(kind EventKind, subject string) ([]Event, error) {
	key, err := eventSubjectKey(kind, subject)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	events, err := tx.mustBucket(bucketEvents)
	if err != nil {
		return nil, fmt.Errorf("store: list events %s: %w", key, err)
	}
	sb := events.Bucket(key)
	if sb == nil {
		return nil, nil
	}
	var out []Event
	err = sb.ForEach(func(k, v []byte) error {
		var e Event
		if err := decodeJSON(k, v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list events %s: %w", key, err)
	}
	return out, nil
}

// DeleteEvents drops all events of a subject (for example once its daemon is
// gone). Deleting a subject without events is not an error.
func (tx *Tx) DeleteEvents(kind EventKind, subject string) error {
	key, err := eventSubjectKey(kind, subject)
	if err != nil {
		return fmt.Errorf("store: delete events: %w", err)
	}
	events, err := tx.mustBucket(bucketEvents)
	if err != nil {
		return fmt.Errorf("store: delete events %s: %w", key, err)
	}
	if events.Bucket(key) == nil {
		return nil
	}
	if err := events.DeleteBucket(key); err != nil {
		return fmt.Errorf("store: delete events %s: %w", key, err)
	}
	return nil
}
