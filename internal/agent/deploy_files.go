package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// fileWriter writes a daemon's files: atomically (a temporary file in the
// same directory, renamed over the old one, so `ls` and a crashed deploy
// never see half a file), with an explicit mode (not the umask's), and
// owned by the daemon's uid:gid when the request gives one.
type fileWriter struct {
	l        *Lifecycle
	uid, gid *int
}

// mkdir creates p (a machine path) and its parents; own hands p itself to
// the daemon's uid:gid. Existing directories keep their mode.
func (w *fileWriter) mkdir(p string, perm fs.FileMode, own bool) error {
	fp := w.l.fs(p)
	if st, err := os.Stat(fp); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("mkdir %s: exists and is not a directory", p)
		}
	} else {
		// Parents the agent creates on the way (/var/lib/ceph itself on a
		// fresh host) are world-traversable, as a package would make them.
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", p, err)
		}
		if err := os.Mkdir(fp, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("mkdir %s: %w", p, err)
		}
		if err := os.Chmod(fp, perm); err != nil {
			return fmt.Errorf("mkdir %s: %w", p, err)
		}
	}
	if own {
		return w.chown(fp, w.uid, w.gid)
	}
	return nil
}

// write writes data to p owned by the daemon.
func (w *fileWriter) write(p string, data []byte, perm fs.FileMode) error {
	return w.writeAs(p, data, perm, w.uid, w.gid)
}

// writeAs writes data to p atomically with mode perm and owner uid:gid
// (nil: leave as created, i.e. root).
func (w *fileWriter) writeAs(p string, data []byte, perm fs.FileMode, uid, gid *int) error {
	fp := w.l.fs(p)
	f, err := os.CreateTemp(filepath.Dir(fp), "."+filepath.Base(fp)+".new-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := w.chown(tmp, uid, gid); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp, fp); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	ok = true
	return nil
}

func (w *fileWriter) chown(fp string, uid, gid *int) error {
	if uid == nil && gid == nil {
		return nil
	}
	u, g := -1, -1
	if uid != nil {
		u = *uid
	}
	if gid != nil {
		g = *gid
	}
	chown := w.l.Chown
	if chown == nil {
		chown = os.Lchown
	}
	if err := chown(fp, u, g); err != nil {
		return fmt.Errorf("chown %s: %w", fp, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
