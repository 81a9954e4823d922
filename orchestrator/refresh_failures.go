package orchestrator

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/orchceph/orch/store"
)

// Refresh failures are persisted so that `orch health` can raise
// CEPHADM_REFRESH_FAILED ("failed to probe daemons or devices") with a
// detail line per failure, across controller restarts. They live in the
// settings bucket, one key per host:
//
//	health/refresh_failed/<host> → RefreshFailure JSON
//
// The key is written by the refresh's batch commit (same transaction as
// the cache entries), updated per kind as kinds fail or succeed, and
// deleted once every kind of the host refreshes again. A setting rather
// than an event: events are per service or daemon and capped in number,
// whereas this is current state with one value per host.

// RefreshFailedPrefix starts the setting keys of refresh failures.
const RefreshFailedPrefix = "health/refresh_failed/"

// ConnectFailure is the RefreshFailure.Errors key of a connection failure.
const ConnectFailure = "connect"

// RefreshFailure is the current refresh trouble of one host.
type RefreshFailure struct {
	Host string `json:"host"`
	// Since is when the host's current run of failures began; Updated the
	// last failed attempt.
	Since   time.Time `json:"since"`
	Updated time.Time `json:"updated"`
	// Offline is true when the last attempt could not reach the host.
	Offline bool `json:"offline"`
	// Errors maps a cache kind (daemons, facts, networks, devices), or
	// "connect", to the error.
	Errors map[string]string `json:"errors"`
}

// Details are the CEPHADM_REFRESH_FAILED detail lines for this host, in a
// fixed order.
func (f RefreshFailure) Details() []string {
	keys := make([]string, 0, len(f.Errors))
	for k := range f.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, f.Errors[k])
	}
	return out
}

func refreshFailedKey(host string) string { return RefreshFailedPrefix + host }

// recordFailures updates the host's failure record from an outcome.
func (c *Controller) recordFailures(tx *store.Tx, o *hostOutcome) error {
	key := refreshFailedKey(o.host)
	var rec RefreshFailure
	had := false
	if v, err := tx.GetSetting(key); err == nil {
		had = json.Unmarshal([]byte(v), &rec) == nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if rec.Errors == nil {
		rec.Errors = map[string]string{}
	}
	if o.connErr != nil {
		rec.Errors[ConnectFailure] = fmt.Sprintf("host %s (%s) could not be reached: %v", o.host, o.addr, o.connErr)
	} else {
		delete(rec.Errors, ConnectFailure)
	}
	for _, w := range o.writes {
		delete(rec.Errors, string(w.kind))
	}
	for k, err := range o.failed {
		rec.Errors[string(k)] = err.Error()
	}
	if len(rec.Errors) == 0 {
		if had {
			return tx.DeleteSetting(key)
		}
		return nil
	}
	now := c.now().UTC()
	if !had || rec.Since.IsZero() {
		rec.Since = now
	}
	rec.Host, rec.Updated, rec.Offline = o.host, now, o.connErr != nil
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.SetSetting(key, string(b))
}

// RefreshFailures returns the hosts whose last refresh failed, sorted by
// host; records of hosts no longer in the inventory are left out.
func (c *Controller) RefreshFailures() ([]RefreshFailure, error) {
	var out []RefreshFailure
	err := c.st.View(func(tx *store.Tx) error {
		settings, err := tx.ListSettings()
		if err != nil {
			return err
		}
		for _, s := range settings {
			host, ok := strings.CutPrefix(s.Name, RefreshFailedPrefix)
			if !ok {
				continue
			}
			if _, err := tx.GetHost(host); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			var f RefreshFailure
			if err := json.Unmarshal([]byte(s.Value), &f); err != nil {
				return fmt.Errorf("setting %s: %w", s.Name, err)
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}
