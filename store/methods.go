package store

import (
	"encoding/json"
	"time"
)

// The Store methods below each run the Tx method of the same name in a
// transaction of their own. Group several changes with Store.Update instead.

func view[T any](s *Store, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

func update[T any](s *Store, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := s.Update(func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// SchemaVersion reports the schema version recorded in the file.
func (s *Store) SchemaVersion() (int, error) { return view(s, (*Tx).SchemaVersion) }

// GetCluster: see Tx.GetCluster.
func (s *Store) GetCluster() (Cluster, error) { return view(s, (*Tx).GetCluster) }

// PutCluster: see Tx.PutCluster.
func (s *Store) PutCluster(c Cluster) error {
	return s.Update(func(tx *Tx) error { return tx.PutCluster(c) })
}

// UpdateCluster: see Tx.UpdateCluster.
func (s *Store) UpdateCluster(fn func(*Cluster) error) (Cluster, error) {
	return update(s, func(tx *Tx) (Cluster, error) { return tx.UpdateCluster(fn) })
}

// GetSetting: see Tx.GetSetting.
func (s *Store) GetSetting(name string) (string, error) {
	return view(s, func(tx *Tx) (string, error) { return tx.GetSetting(name) })
}

// SetSetting: see Tx.SetSetting.
func (s *Store) SetSetting(name, value string) error {
	return s.Update(func(tx *Tx) error { return tx.SetSetting(name, value) })
}

// DeleteSetting: see Tx.DeleteSetting.
func (s *Store) DeleteSetting(name string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteSetting(name) })
}

// ListSettings: see Tx.ListSettings.
func (s *Store) ListSettings() ([]Setting, error) { return view(s, (*Tx).ListSettings) }

// GetSecret: see Tx.GetSecret.
func (s *Store) GetSecret(name string) (Secret, error) {
	return view(s, func(tx *Tx) (Secret, error) { return tx.GetSecret(name) })
}

// SetSecret: see Tx.SetSecret.
func (s *Store) SetSecret(name string, value Secret) error {
	return s.Update(func(tx *Tx) error { return tx.SetSecret(name, value) })
}

// DeleteSecret: see Tx.DeleteSecret.
func (s *Store) DeleteSecret(name string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteSecret(name) })
}

// ListSecretNames: see Tx.ListSecretNames.
func (s *Store) ListSecretNames() ([]string, error) { return view(s, (*Tx).ListSecretNames) }

// PutHost: see Tx.PutHost.
func (s *Store) PutHost(h Host) error { return s.Update(func(tx *Tx) error { return tx.PutHost(h) }) }

// GetHost: see Tx.GetHost.
func (s *Store) GetHost(name string) (Host, error) {
	return view(s, func(tx *Tx) (Host, error) { return tx.GetHost(name) })
}

// ListHosts: see Tx.ListHosts.
func (s *Store) ListHosts() ([]Host, error) { return view(s, (*Tx).ListHosts) }

// DeleteHost: see Tx.DeleteHost.
func (s *Store) DeleteHost(name string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteHost(name) })
}

// PutSpec: see Tx.PutSpec.
func (s *Store) PutSpec(r SpecRecord) error {
	return s.Update(func(tx *Tx) error { return tx.PutSpec(r) })
}

// GetSpec: see Tx.GetSpec.
func (s *Store) GetSpec(serviceName string) (SpecRecord, error) {
	return view(s, func(tx *Tx) (SpecRecord, error) { return tx.GetSpec(serviceName) })
}

// ListSpecs: see Tx.ListSpecs.
func (s *Store) ListSpecs() ([]SpecRecord, error) { return view(s, (*Tx).ListSpecs) }

// MarkSpecDeleted: see Tx.MarkSpecDeleted.
func (s *Store) MarkSpecDeleted(serviceName string, at time.Time) error {
	return s.Update(func(tx *Tx) error { return tx.MarkSpecDeleted(serviceName, at) })
}

// PurgeSpec: see Tx.PurgeSpec.
func (s *Store) PurgeSpec(serviceName string) error {
	return s.Update(func(tx *Tx) error { return tx.PurgeSpec(serviceName) })
}

// UpdateHostCache: see Tx.UpdateHostCache.
func (s *Store) UpdateHostCache(host string, kind CacheKind, data json.RawMessage, refreshed time.Time) error {
	return s.Update(func(tx *Tx) error { return tx.UpdateHostCache(host, kind, data, refreshed) })
}

// SetRefreshNeeded: see Tx.SetRefreshNeeded.
func (s *Store) SetRefreshNeeded(host string, kind CacheKind, needed bool) error {
	return s.Update(func(tx *Tx) error { return tx.SetRefreshNeeded(host, kind, needed) })
}

// GetHostCache: see Tx.GetHostCache.
func (s *Store) GetHostCache(host string) (HostCache, error) {
	return view(s, func(tx *Tx) (HostCache, error) { return tx.GetHostCache(host) })
}

// ListHostCaches: see Tx.ListHostCaches.
func (s *Store) ListHostCaches() ([]HostCache, error) { return view(s, (*Tx).ListHostCaches) }

// DeleteHostCache: see Tx.DeleteHostCache.
func (s *Store) DeleteHostCache(host string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteHostCache(host) })
}

// AppendEvent: see Tx.AppendEvent.
func (s *Store) AppendEvent(e Event) (Event, error) {
	return update(s, func(tx *Tx) (Event, error) { return tx.AppendEvent(e) })
}

// ListEvents: see Tx.ListEvents.
func (s *Store) ListEvents(kind EventKind, subject string) ([]Event, error) {
	return view(s, func(tx *Tx) ([]Event, error) { return tx.ListEvents(kind, subject) })
}

// DeleteEvents: see Tx.DeleteEvents.
func (s *Store) DeleteEvents(kind EventKind, subject string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteEvents(kind, subject) })
}

// CreateOperation: see Tx.CreateOperation.
func (s *Store) CreateOperation(op Operation) (Operation, error) {
	return update(s, func(tx *Tx) (Operation, error) { return tx.CreateOperation(op) })
}

// GetOperation: see Tx.GetOperation.
func (s *Store) GetOperation(id uint64) (Operation, error) {
	return view(s, func(tx *Tx) (Operation, error) { return tx.GetOperation(id) })
}

// UpdateOperation: see Tx.UpdateOperation.
func (s *Store) UpdateOperation(id uint64, fn func(*Operation) error) (Operation, error) {
	return update(s, func(tx *Tx) (Operation, error) { return tx.UpdateOperation(id, fn) })
}

// ListOperations: see Tx.ListOperations.
func (s *Store) ListOperations() ([]Operation, error) { return view(s, (*Tx).ListOperations) }

// DeleteOperation: see Tx.DeleteOperation.
func (s *Store) DeleteOperation(id uint64) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteOperation(id) })
}

// PutOSDRemoval: see Tx.PutOSDRemoval.
func (s *Store) PutOSDRemoval(r OSDRemoval) error {
	return s.Update(func(tx *Tx) error { return tx.PutOSDRemoval(r) })
}

// GetOSDRemoval: see Tx.GetOSDRemoval.
func (s *Store) GetOSDRemoval(id int) (OSDRemoval, error) {
	return view(s, func(tx *Tx) (OSDRemoval, error) { return tx.GetOSDRemoval(id) })
}

// ListOSDRemovals: see Tx.ListOSDRemovals.
func (s *Store) ListOSDRemovals() ([]OSDRemoval, error) { return view(s, (*Tx).ListOSDRemovals) }

// DeleteOSDRemoval: see Tx.DeleteOSDRemoval.
func (s *Store) DeleteOSDRemoval(id int) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteOSDRemoval(id) })
}

// GetUpgradeState: see Tx.GetUpgradeState.
func (s *Store) GetUpgradeState() (UpgradeState, error) { return view(s, (*Tx).GetUpgradeState) }

// PutUpgradeState: see Tx.PutUpgradeState.
func (s *Store) PutUpgradeState(u UpgradeState) error {
	return s.Update(func(tx *Tx) error { return tx.PutUpgradeState(u) })
}

// ClearUpgradeState: see Tx.ClearUpgradeState.
func (s *Store) ClearUpgradeState() error { return s.Update((*Tx).ClearUpgradeState) }
