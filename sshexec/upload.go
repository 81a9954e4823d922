package sshexec

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/pkg/sftp"
)

// UploadOptions set the mode and owner of an uploaded file.
type UploadOptions struct {
	// Mode defaults to 0644.
	Mode fs.FileMode
	// Chown sets the owner to UID:GID; otherwise the SSH user owns the
	// file (root for root, root through sudo otherwise).
	Chown    bool
	UID, GID int
	// Timeout bounds the whole upload; zero means Options.DefaultTimeout.
	Timeout time.Duration
}

// Upload writes content to remotePath on host atomically: a temporary file
// in the target directory is written, closed (the close is checked: it is
// where a full disk shows), given its mode and owner, and renamed over
// remotePath (posix-rename@openssh.com when the server has it). Readers see
// the old file or the new one, never a partial one. Missing directories
// are created. For a non-root user the file is staged in /tmp over SFTP
// and installed with passwordless sudo in the same temp-then-rename way.
func (p *Pool) Upload(ctx context.Context, host, remotePath string, content io.Reader, opts UploadOptions) error {
	t, err := p.target(host)
	if err != nil {
		return err
	}
	if !path.IsAbs(remotePath) || path.Clean(remotePath) != remotePath || remotePath == "/" {
		return fmt.Errorf("%s: upload %s: path must be absolute and clean: %w", host, remotePath, ErrInvalidTarget)
	}
	if opts.Mode == 0 {
		opts.Mode = 0o644
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = p.opts.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tmpName := func(dir string) (string, error) {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		return path.Join(dir, ".orch-upload."+path.Base(remotePath)+"."+hex.EncodeToString(b[:])), nil
	}
	if t.user() == "root" {
		err := p.withSFTP(ctx, t, func(c *sftp.Client) error {
			dir := path.Dir(remotePath)
			if err := c.MkdirAll(dir); err != nil {
				return fmt.Errorf("create directory %s: %w", dir, err)
			}
			tmp, err := tmpName(dir)
			if err != nil {
				return err
			}
			if err := writeRemote(c, tmp, content, opts); err != nil {
				_ = c.Remove(tmp)
				return err
			}
			if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
				err = c.PosixRename(tmp, remotePath)
			} else {
				// SFTPv3 rename refuses an existing target; mv(1)
				// renames atomically over it.
				_, err = p.Run(ctx, host, []string{"mv", "-f", "--", tmp, remotePath}, RunOptions{Timeout: timeout})
			}
			if err != nil {
				_ = c.Remove(tmp)
				return fmt.Errorf("rename into place: %w", err)
			}
			return nil
		})
		if err != nil {
			return p.uploadErr(ctx, host, remotePath, err)
		}
		return nil
	}

	// Non-root: stage as the SSH user, then install with sudo.
	staging, err := tmpName("/tmp")
	if err != nil {
		return fmt.Errorf("%s: upload %s: %w", host, remotePath, err)
	}
	err = p.withSFTP(ctx, t, func(c *sftp.Client) error {
		if err := writeRemote(c, staging, content, UploadOptions{Mode: 0o600}); err != nil {
			_ = c.Remove(staging)
			return err
		}
		return nil
	})
	if err != nil {
		return p.uploadErr(ctx, host, remotePath, err)
	}
	tmp, err := tmpName(path.Dir(remotePath))
	if err != nil {
		return fmt.Errorf("%s: upload %s: %w", host, remotePath, err)
	}
	owner := ""
	if opts.Chown {
		owner = strconv.Itoa(opts.UID) + ":" + strconv.Itoa(opts.GID)
	}
	// A fixed script; every input is a positional parameter, never code.
	const install = `set -e; trap 'rm -f -- "$2" "$3"' EXIT; mkdir -p -- "$1"; cp -- "$2" "$3"; chmod -- "$4" "$3"; ` +
		`if [ -n "$5" ]; then chown -- "$5" "$3"; fi; mv -f -- "$3" "$6"`
	_, err = p.Run(ctx, host, []string{"sh", "-c", install, "orch-install",
		path.Dir(remotePath), staging, tmp, strconv.FormatUint(uint64(opts.Mode.Perm()), 8), owner, remotePath}, RunOptions{Timeout: timeout})
	if err != nil {
		return fmt.Errorf("%s: upload %s: install with sudo: %w", host, remotePath, err)
	}
	return nil
}

func (p *Pool) uploadErr(ctx context.Context, host, remotePath string, err error) error {
	if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrClosed) || errors.Is(err, ErrAuth) || errors.Is(err, ErrHostKeyMismatch) {
		return err // already names host and address
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: upload %s: %w: %w", host, remotePath, ctx.Err(), err)
	}
	return fmt.Errorf("%s: upload %s: %w", host, remotePath, err)
}

// writeRemote creates name exclusively, copies content, checks Close and
// sets mode and owner.
func writeRemote(c *sftp.Client, name string, content io.Reader, opts UploadOptions) error {
	f, err := c.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if _, err := f.ReadFrom(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := c.Chmod(name, opts.Mode.Perm()); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if opts.Chown {
		if err := c.Chown(name, opts.UID, opts.GID); err != nil {
			return fmt.Errorf("chown %s: %w", name, err)
		}
	}
	return nil
}

// withSFTP runs f with an SFTP client on t's connection. If ctx ends, the
// subsystem channel is closed, and if that does not free f within
// CloseGrace, the whole connection is.
func (p *Pool) withSFTP(ctx context.Context, t Target, f func(*sftp.Client) error) error {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.conn(ctx, t)
		if err != nil {
			return err
		}
		if err := c.acquire(ctx); err != nil {
			if reused && attempt == 0 && ctx.Err() == nil {
				continue
			}
			return fmt.Errorf("%s: sftp: %w: %w", t.Name, ErrUnreachable, err)
		}
		sess, err := p.newSession(ctx, c)
		if err != nil {
			c.release()
			if ctx.Err() == nil && reused && attempt == 0 {
				c.close(fmt.Errorf("open session: %w", err))
				continue
			}
			if ctx.Err() != nil {
				return fmt.Errorf("%s: sftp: open session: %w", t.Name, err)
			}
			return fmt.Errorf("%s: sftp: open session: %w: %w", t.Name, ErrUnreachable, err)
		}
		err = func() error {
			defer c.release()
			defer sess.Close()
			release := p.watchCtx(ctx, c, sess)
			defer release()
			w, err := sess.StdinPipe()
			if err != nil {
				return err
			}
			r, err := sess.StdoutPipe()
			if err != nil {
				return err
			}
			if err := sess.RequestSubsystem("sftp"); err != nil {
				return fmt.Errorf("sftp subsystem refused: %w", err)
			}
			sc, err := sftp.NewClientPipe(r, w)
			if err != nil {
				return fmt.Errorf("sftp handshake: %w", err)
			}
			defer sc.Close()
			return f(sc)
		}()
		if err != nil && c.isDead() {
			return fmt.Errorf("%s: sftp: connection lost: %w: %w", t.Name, ErrUnreachable, err)
		}
		return err
	}
}

// watchCtx closes sess when ctx ends and, unless the returned release is
// called within CloseGrace after that, the whole connection.
func (p *Pool) watchCtx(ctx context.Context, c *conn, sess io.Closer) (release func()) {
	var (
		mu       sync.Mutex
		finished bool
		escalate *time.Timer
	)
	stop := context.AfterFunc(ctx, func() {
		sess.Close()
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			escalate = time.AfterFunc(p.opts.CloseGrace, func() {
				c.close(fmt.Errorf("cancelled operation did not end within %s", p.opts.CloseGrace))
			})
		}
	})
	return func() {
		stop()
		mu.Lock()
		finished = true
		if escalate != nil {
			escalate.Stop()
		}
		mu.Unlock()
	}
}

// Binary is a local file pushed content-addressed; hash it once with
// OpenBinary and push it to many hosts.
type Binary struct {
	Path   string
	SHA256 string
	Size   int64
}

// OpenBinary hashes the file at path.
func OpenBinary(path string) (*Binary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open binary %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("hash binary %s: %w", path, err)
	}
	return &Binary{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

var fsidRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)

// RemoteBinaryPath is where PushBinary puts bin for cluster fsid:
// <RemoteRoot>/<fsid>/orch.<sha256>.
func (p *Pool) RemoteBinaryPath(fsid string, bin *Binary) string {
	return path.Join(p.opts.RemoteRoot, fsid, "orch."+bin.SHA256)
}

// PushBinary makes sure host has bin at RemoteBinaryPath(fsid, bin),
// uploading it (atomically, mode 0755, owner root) only when it is missing,
// and returns that path. Presence is checked with an SFTP stat of the
// expected size: uploads are atomic, so a file by that name is complete.
func (p *Pool) PushBinary(ctx context.Context, host, fsid string, bin *Binary) (string, error) {
	if !fsidRe.MatchString(fsid) {
		return "", fmt.Errorf("%s: push binary: invalid fsid %q: %w", host, fsid, ErrInvalidTarget)
	}
	dst := p.RemoteBinaryPath(fsid, bin)
	t, err := p.target(host)
	if err != nil {
		return "", err
	}
	var present bool
	err = p.withSFTP(ctx, t, func(c *sftp.Client) error {
		fi, err := c.Stat(dst)
		switch {
		case err == nil:
			present = fi.Mode().IsRegular() && fi.Size() == bin.Size
			return nil
		case errors.Is(err, fs.ErrNotExist):
			return nil
		default:
			return fmt.Errorf("stat %s: %w", dst, err)
		}
	})
	if err != nil {
		return "", p.uploadErr(ctx, host, dst, err)
	}
	if present {
		p.log.Debug().Str("host", host).Str("path", dst).Msg("binary present, not pushed")
		return dst, nil
	}
	f, err := os.Open(bin.Path)
	if err != nil {
		return "", fmt.Errorf("%s: push binary: %w", host, err)
	}
	defer f.Close()
	if err := p.Upload(ctx, host, dst, f, UploadOptions{Mode: 0o755, Chown: true}); err != nil {
		return "", err
	}
	p.log.Info().Str("host", host).Str("path", dst).Msg("binary pushed")
	return dst, nil
}
