package store

import (
	"fmt"
	"time"
)

// Host is one inventory entry (cephadm's HostSpec plus what orch pins).
type Host struct {
	Name     string            `json:"hostname"`
	Addr     string            `json:"addr"`
	Labels   []string          `json:"labels"`
	Status   string            `json:"status"` // "", "maintenance" or "offline"
	Location map[string]string `json:"location,omitempty"`
	// HostKey is the SSH host key pinned at "host add" time, in
	// authorized_keys form ("ssh-ed25519 AAAA..."). A connection presenting a
	// different key must be refused by the caller.
	HostKey string    `json:"host_key,omitempty"`
	Added   time.Time `json:"added"`
}

// PutHost inserts or replaces a host. A zero Added keeps the stored value, or
// is set to now for a new host.
func (tx *Tx) PutHost(h Host) error {
	if err := checkKey("hostname", h.Name); err != nil {
		return fmt.Errorf("store: put host: %w", err)
	}
	b, err := tx.mustBucket(bucketHosts)
	if err != nil {
		return fmt.Errorf("store: put host %q: %w", h.Name, err)
	}
	if h.Added.IsZero() {
		var old Host
		ok, err := getJSON(b, []byte(h.Name), &old)
		if err != nil {
			return fmt.Errorf("store: put host %q: %w", h.Name, err)
		}
		h.Added = old.Added
		if !ok {
			h.Added = tx.now()
		}
	}
	if err := putJSON(b, []byte(h.Name), h); err != nil {
		return fmt.Errorf("store: put host %q: %w", h.Name, err)
	}
	return nil
}

// GetHost returns the named host or ErrNotFound.
func (tx *Tx) GetHost(name string) (Host, error) {
	var h Host
	b, err := tx.mustBucket(bucketHosts)
	if err != nil {
		return h, fmt.Errorf("store: get host %q: %w", name, err)
	}
	ok, err := getJSON(b, []byte(name), &h)
	if err != nil {
		return h, fmt.Errorf("store: get host %q: %w", name, err)
	}
	if !ok {
		return h, fmt.Errorf("store: get host %q: %w", name, ErrNotFound)
	}
	return h, nil
}

// ListHosts returns every host sorted by name.
func (tx *Tx) ListHosts() ([]Host, error) {
	b, err := tx.mustBucket(bucketHosts)
	if err != nil {
		return nil, fmt.Errorf("store: list hosts: %w", err)
	}
	var out []Host
	err = b.ForEach(func(k, v []byte) error {
		var h Host
		if err := decodeJSON(k, v, &h); err != nil {
			return err
		}
		out = append(out, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list hosts: %w", err)
	}
	return out, nil
}

// DeleteHost removes a host and, in the same transaction, its cached state:
// a cache for a host that is not in the inventory is never kept. ErrNotFound
// if the host does not exist.
func (tx *Tx) DeleteHost(name string) error {
	if err := tx.deleteKey(bucketHosts, "host", name); err != nil {
		return err
	}
	if err := tx.DeleteHostCache(name); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}
