package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero. Short on purpose: a second orch process should
// learn at once that the store is taken, not hang.
const DefaultTimeout = time.Second

// DefaultMaxEventsPerSubject bounds the events kept per subject when
// Options.MaxEventsPerSubject is zero. cephadm keeps its (in-memory) events
// per service or daemon bounded the same way.
const DefaultMaxEventsPerSubject = 20

const (
	fileMode = 0o600
	dirMode  = 0o700
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Timeout bounds the wait for the file lock; 0 means DefaultTimeout.
	Timeout time.Duration
	// Logger receives open, migration and permission-repair messages. The zero
	// value discards them. Secrets are never passed to it.
	Logger zerolog.Logger
	// MaxEventsPerSubject bounds the events kept per subject; older ones are
	// dropped on append. 0 means DefaultMaxEventsPerSubject.
	MaxEventsPerSubject int
	// Now supplies timestamps the store fills in; nil means time.Now.
	Now func() time.Time
}

// Store is an open orch state file. It is safe for concurrent use.
type Store struct {
	db        *bolt.DB
	path      string
	log       zerolog.Logger
	now       func() time.Time
	maxEvents int
}

// Open opens (creating if needed) the store at path and brings its schema up
// to SchemaVersion in one transaction. A missing parent directory is created
// with mode 0700; the file is created with mode 0600, and an existing file
// with looser permissions is tightened to 0600.
//
// If another process holds the file, Open returns an error wrapping ErrLocked
// after at most opts.Timeout. A file written by a newer binary is refused with
// ErrSchemaTooNew and left untouched.
func Open(path string, opts Options) (*Store, error) {
	return openWith(path, opts, migrations)
}

func openWith(path string, opts Options, migs []migration) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("store: open: empty path: %w", ErrInvalid)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	s := &Store{
		path:      path,
		log:       opts.Logger.With().Str("component", "store").Str("path", path).Logger(),
		now:       opts.Now,
		maxEvents: opts.MaxEventsPerSubject,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxEvents <= 0 {
		s.maxEvents = DefaultMaxEventsPerSubject
	}

	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return nil, fmt.Errorf("store: open %s: create directory: %w", path, err)
	}
	db, err := bolt.Open(path, fileMode, &bolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open %s: another orch process holds the lock (gave up after %s): %w",
				path, timeout, ErrLocked)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.db = db
	if err := s.tightenMode(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := db.Update(func(btx *bolt.Tx) error { return s.migrate(btx, migs) }); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// tightenMode repairs a pre-existing file that is readable by others: the
// file holds SSH private keys and keyrings.
func (s *Store) tightenMode() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if fi.Mode().Perm()&^fileMode == 0 {
		return nil
	}
	if err := os.Chmod(s.path, fileMode); err != nil {
		return fmt.Errorf("store: open %s: restrict mode to 0600: %w", s.path, err)
	}
	s.log.Warn().Str("was", fi.Mode().Perm().String()).Msg("store file was readable by others; mode set to 0600")
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock. Transactions in flight finish first.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Update runs fn in one read-write transaction: either every change fn makes
// is committed, or (fn returns an error, panics, or the process dies) none is.
// The Tx must not be used after fn returns.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{btx: btx, s: s}) })
}

// View runs fn in a read-only transaction that sees one consistent snapshot.
// Write methods called on its Tx fail.
func (s *Store) View(fn func(tx *Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{btx: btx, s: s}) })
}

// Tx is one transaction. It carries the same typed methods as Store; use it
// through Store.Update or Store.View to group several of them atomically.
// A Tx is not safe for concurrent use.
type Tx struct {
	btx *bolt.Tx
	s   *Store
}

func (tx *Tx) now() time.Time { return tx.s.now().UTC() }
