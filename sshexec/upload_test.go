package sshexec

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/orchceph/orch/sshexec/sshtest"
)

// stripSudo runs "sudo -n -- cmd" as cmd, like passwordless sudo would.
func stripSudo(h sshtest.Handler) sshtest.Handler {
	return func(ctx context.Context, e sshtest.Exec) int {
		e.Command = strings.TrimPrefix(e.Command, "sudo -n -- ")
		return h(ctx, e)
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".orch-upload") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestUploadAtomicRoot(t *testing.T) {
	key := newSigner(t)
	root := t.TempDir()
	srv := startServer(t, key, sshtest.Options{SFTPDir: root, Handler: sshtest.ShellHandler(root)})
	p := newPool(t, Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	dst := filepath.Join(root, "etc", "ceph", "ceph.conf")
	for _, content := range []string{"first\n", strings.Repeat("second version\n", 10000)} {
		err := p.Upload(testCtx(t), "n1", dst, strings.NewReader(content), UploadOptions{Mode: 0o640, Chown: true, UID: 1234, GID: 4321})
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(dst)
		if err != nil || string(got) != content {
			t.Fatalf("content mismatch (%d bytes, %v)", len(got), err)
		}
		fi, _ := os.Stat(dst)
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != 0o640 || st.Uid != 1234 || st.Gid != 4321 {
			t.Fatalf("mode %v owner %d:%d", fi.Mode(), st.Uid, st.Gid)
		}
	}
	assertNoTemps(t, filepath.Dir(dst))
	if err := p.Upload(testCtx(t), "n1", "relative/path", strings.NewReader("x"), UploadOptions{}); err == nil {
		t.Fatal("relative path accepted")
	}
}

func TestUploadNonRootThroughSudo(t *testing.T) {
	key := newSigner(t)
	root := t.TempDir()
	var cmds []string
	sh := sshtest.ShellHandler(root)
	srv := startServer(t, key, sshtest.Options{SFTPDir: root, Handler: func(ctx context.Context, e sshtest.Exec) int {
		cmds = append(cmds, e.Command) // uploads run one command at a time
		return stripSudo(sh)(ctx, e)
	}})
	p := newPool(t, Options{})
	tg := targetFor("n1", srv, key)
	tg.User = "ceph"
	mustAdd(t, p, tg)
	dst := filepath.Join(root, "var", "lib", "x y", "keyring")
	if err := p.Upload(testCtx(t), "n1", dst, strings.NewReader("[client.admin]\n"), UploadOptions{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != "[client.admin]\n" {
		t.Fatalf("content %q %v", got, err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if len(cmds) != 1 || !strings.HasPrefix(cmds[0], "sudo -n -- ") {
		t.Fatalf("install commands: %q", cmds)
	}
	assertNoTemps(t, filepath.Dir(dst))
	staged, _ := filepath.Glob("/tmp/.orch-upload.keyring.*")
	if len(staged) != 0 {
		t.Fatalf("staging files left: %v", staged)
	}
}

func TestPushBinaryContentAddressed(t *testing.T) {
	key := newSigner(t)
	root := t.TempDir()
	srv := startServer(t, key, sshtest.Options{SFTPDir: root, Handler: sshtest.ShellHandler(root)})
	remoteRoot := filepath.Join(root, "var", "lib", "orch")
	p := newPool(t, Options{RemoteRoot: remoteRoot})
	mustAdd(t, p, targetFor("n1", srv, key))
	local := filepath.Join(t.TempDir(), "orch")
	payload := bytes.Repeat([]byte("\x7fELF binary"), 50_000)
	if err := os.WriteFile(local, payload, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := OpenBinary(local)
	if err != nil {
		t.Fatal(err)
	}
	fsid := "2d2fd136-6df1-11ee-8e5a-525400a7b3b1"
	path, err := p.PushBinary(testCtx(t), "n1", fsid, bin)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(remoteRoot, fsid, "orch."+bin.SHA256); path != want {
		t.Fatalf("path %s, want %s", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("pushed content differs (%v)", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o755 {
		t.Fatalf("mode %v", fi.Mode())
	}
	// Mark the remote copy; a second push must stat it and leave it alone.
	marked := bytes.Repeat([]byte("M"), len(payload))
	if err := os.WriteFile(path, marked, 0o755); err != nil {
		t.Fatal(err)
	}
	if path2, err := p.PushBinary(testCtx(t), "n1", fsid, bin); err != nil || path2 != path {
		t.Fatalf("second push: %s %v", path2, err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, marked) {
		t.Fatal("binary pushed again although present")
	}
	// A truncated leftover (wrong size) is replaced.
	if err := os.WriteFile(path, payload[:10], 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PushBinary(testCtx(t), "n1", fsid, bin); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, payload) {
		t.Fatal("wrong-size file not replaced")
	}
	if _, err := p.PushBinary(testCtx(t), "n1", "../etc", bin); err == nil {
		t.Fatal("fsid with path elements accepted")
	}
}
