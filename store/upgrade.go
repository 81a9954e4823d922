package store

import "fmt"

// UpgradeState is cephadm's persisted upgrade_state: present while an upgrade
// is in progress or paused, absent otherwise.
type UpgradeState struct {
	TargetName                   string          `json:"target_name"`
	ProgressID                   string          `json:"progress_id"`
	TargetID                     string          `json:"target_id,omitempty"`
	TargetDigests                []string        `json:"target_digests,omitempty"`
	TargetVersion                string          `json:"target_version,omitempty"`
	FSOriginalMaxMDS             map[string]int  `json:"fs_original_max_mds,omitempty"`
	FSOriginalAllowStandbyReplay map[string]bool `json:"fs_original_allow_standby_replay,omitempty"`
	Error                        string          `json:"error,omitempty"`
	Paused                       bool            `json:"paused"`
	FailFS                       bool            `json:"fail_fs"`
	DaemonTypes                  []string        `json:"daemon_types,omitempty"`
	Hosts                        []string        `json:"hosts,omitempty"`
	Services                     []string        `json:"services,omitempty"`
	TotalCount                   *int            `json:"total_count,omitempty"`
	RemainingCount               *int            `json:"remaining_count,omitempty"`
}

// GetUpgradeState returns the upgrade in progress, or ErrNotFound if none.
func (tx *Tx) GetUpgradeState() (UpgradeState, error) {
	var u UpgradeState
	b, err := tx.mustBucket(bucketUpgrade)
	if err != nil {
		return u, fmt.Errorf("store: get upgrade state: %w", err)
	}
	ok, err := getJSON(b, keyUpgradeState, &u)
	if err != nil {
		return u, fmt.Errorf("store: get upgrade state: %w", err)
	}
	if !ok {
		return u, fmt.Errorf("store: get upgrade state: %w", ErrNotFound)
	}
	return u, nil
}

// PutUpgradeState replaces the upgrade state.
func (tx *Tx) PutUpgradeState(u UpgradeState) error {
	if err := checkKey("upgrade target", u.TargetName); err != nil {
		return fmt.Errorf("store: put upgrade state: %w", err)
	}
	b, err := tx.mustBucket(bucketUpgrade)
	if err == nil {
		err = putJSON(b, keyUpgradeState, u)
	}
	if err != nil {
		return fmt.Errorf("store: put upgrade state: %w", err)
	}
	return nil
}

// ClearUpgradeState removes the upgrade state (upgrade complete or stopped).
// Clearing when there is none is not an error.
func (tx *Tx) ClearUpgradeState() error {
	b, err := tx.mustBucket(bucketUpgrade)
	if err == nil {
		err = b.Delete(keyUpgradeState)
	}
	if err != nil {
		return fmt.Errorf("store: clear upgrade state: %w", err)
	}
	return nil
}
