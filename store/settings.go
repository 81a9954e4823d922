package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Cluster is the cluster-wide configuration cephadm keeps in the mgr store.
type Cluster struct {
	FSID           string `json:"fsid"`
	SSHUser        string `json:"ssh_user"`
	SSHConfig      string `json:"ssh_config,omitempty"`     // ssh_config(5) text
	SSHPublicKey   string `json:"ssh_public_key,omitempty"` // authorized_keys line; the private key is a Secret
	ContainerImage string `json:"container_image,omitempty"`
	Paused         bool   `json:"paused"`
}

// Setting is one entry of the free-form settings bucket.
type Setting struct {
	Name  string
	Value string
}

// Secret holds key material (SSH private keys, keyrings). It is stored
// verbatim in the 0600 file; every formatting path (fmt verbs, JSON,
// zerolog's Interface) prints "[redacted]" so it cannot reach a log by
// accident. Use []byte(secret) to get the bytes.
type Secret []byte

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, redacted) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Secret) MarshalYAML() (any, error)    { return redacted, nil }

// Well-known secret names.
const (
	SecretSSHPrivateKey = "ssh/private_key"
)

// KeyringSecret names the secret that holds a client keyring, e.g.
// KeyringSecret("client.admin") = "keyring/client.admin".
func KeyringSecret(entity string) string { return "keyring/" + entity }

// GetCluster returns the cluster configuration, or ErrNotFound before the
// first PutCluster.
func (tx *Tx) GetCluster() (Cluster, error) {
	var c Cluster
	b, err := tx.mustBucket(bucketCluster)
	if err != nil {
		return c, fmt.Errorf("store: get cluster: %w", err)
	}
	ok, err := getJSON(b, keyCluster, &c)
	if err != nil {
		return c, fmt.Errorf("store: get cluster: %w", err)
	}
	if !ok {
		return c, fmt.Errorf("store: get cluster: %w", ErrNotFound)
	}
	return c, nil
}

// PutCluster replaces the cluster configuration.
func (tx *Tx) PutCluster(c Cluster) error {
	b, err := tx.mustBucket(bucketCluster)
	if err == nil {
		err = putJSON(b, keyCluster, c)
	}
	if err != nil {
		return fmt.Errorf("store: put cluster: %w", err)
	}
	return nil
}

// UpdateCluster applies fn to the stored configuration (the zero Cluster if
// none is stored yet) and writes the result, unless fn returns an error.
func (tx *Tx) UpdateCluster(fn func(*Cluster) error) (Cluster, error) {
	c, err := tx.GetCluster()
	if err != nil && !isNotFound(err) {
		return Cluster{}, err
	}
	if err := fn(&c); err != nil {
		return Cluster{}, err
	}
	return c, tx.PutCluster(c)
}

// GetSetting returns the value of a free-form setting.
func (tx *Tx) GetSetting(name string) (string, error) {
	b, err := tx.mustBucket(bucketSettings)
	if err != nil {
		return "", fmt.Errorf("store: get setting %q: %w", name, err)
	}
	v := b.Get([]byte(name))
	if v == nil {
		return "", fmt.Errorf("store: get setting %q: %w", name, ErrNotFound)
	}
	return string(v), nil
}

// SetSetting stores a free-form setting (for example an mgr/cephadm option).
func (tx *Tx) SetSetting(name, value string) error {
	if err := checkKey("setting name", name); err != nil {
		return fmt.Errorf("store: set setting: %w", err)
	}
	b, err := tx.mustBucket(bucketSettings)
	if err == nil {
		err = b.Put([]byte(name), []byte(value))
	}
	if err != nil {
		return fmt.Errorf("store: set setting %q: %w", name, err)
	}
	return nil
}

// DeleteSetting removes a setting; ErrNotFound if it is not set.
func (tx *Tx) DeleteSetting(name string) error {
	return tx.deleteKey(bucketSettings, "setting", name)
}

// ListSettings returns every setting sorted by name.
func (tx *Tx) ListSettings() ([]Setting, error) {
	b, err := tx.mustBucket(bucketSettings)
	if err != nil {
		return nil, fmt.Errorf("store: list settings: %w", err)
	}
	var out []Setting
	err = b.ForEach(func(k, v []byte) error {
		out = append(out, Setting{Name: string(k), Value: string(v)})
		return nil
	})
	return out, err
}

// GetSecret returns a copy of the named secret.
func (tx *Tx) GetSecret(name string) (Secret, error) {
	b, err := tx.mustBucket(bucketSecrets)
	if err != nil {
		return nil, fmt.Errorf("store: get secret %q: %w", name, err)
	}
	v := b.Get([]byte(name))
	if v == nil {
		return nil, fmt.Errorf("store: get secret %q: %w", name, ErrNotFound)
	}
	return Secret(bytes.Clone(v)), nil
}

// SetSecret stores a secret under name.
func (tx *Tx) SetSecret(name string, value Secret) error {
	if err := checkKey("secret name", name); err != nil {
		return fmt.Errorf("store: set secret: %w", err)
	}
	b, err := tx.mustBucket(bucketSecrets)
	if err == nil {
		err = b.Put([]byte(name), bytes.Clone(value))
	}
	if err != nil {
		return fmt.Errorf("store: set secret %q: %w", name, err)
	}
	return nil
}

// DeleteSecret removes a secret; ErrNotFound if it does not exist.
func (tx *Tx) DeleteSecret(name string) error {
	return tx.deleteKey(bucketSecrets, "secret", name)
}

// ListSecretNames returns the names (never the values) of all secrets, sorted.
func (tx *Tx) ListSecretNames() ([]string, error) {
	b, err := tx.mustBucket(bucketSecrets)
	if err != nil {
		return nil, fmt.Errorf("store: list secrets: %w", err)
	}
	var out []string
	err = b.ForEach(func(k, _ []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out, err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func (tx *Tx) deleteKey(bucket []byte, what, name string) error {
	b, err := tx.mustBucket(bucket)
	if err != nil {
		return fmt.Errorf("store: delete %s %q: %w", what, name, err)
	}
	if b.Get([]byte(name)) == nil {
		return fmt.Errorf("store: delete %s %q: %w", what, name, ErrNotFound)
	}
	if err := b.Delete([]byte(name)); err != nil {
		return fmt.Errorf("store: delete %s %q: %w", what, name, err)
	}
	return nil
}
