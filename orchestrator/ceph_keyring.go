package orchestrator

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Ceph's secret keys (CryptoKey) are encoded as little-endian
// u16 type | u32 created.sec | u32 created.nsec | u16 len | secret, then
// base64. Type 1 is AES (CEPH_CRYPTO_AES) with a 16-byte secret; every
// key `ceph-authtool --gen-key` makes has this shape, which is why they
// all start with "AQ".
const (
	cephCryptoAES  = 1
	cephSecretSize = 16
)

// newCephKey returns a new random AES key in Ceph's base64 encoding,
// created at now. rnd is crypto/rand in production; tests pass a fixed
// reader.
func newCephKey(rnd io.Reader, now time.Time) (string, error) {
	buf := make([]byte, 2+8+2+cephSecretSize)
	binary.LittleEndian.PutUint16(buf[0:], cephCryptoAES)
	binary.LittleEndian.PutUint32(buf[2:], uint32(now.Unix()))
	binary.LittleEndian.PutUint32(buf[6:], uint32(now.Nanosecond()))
	binary.LittleEndian.PutUint16(buf[10:], cephSecretSize)
	if _, err := io.ReadFull(rnd, buf[12:]); err != nil {
		return "", fmt.Errorf("generate ceph key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}

// checkCephKey reports whether s decodes as a Ceph AES key.
func checkCephKey(s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("ceph key: not base64: %w", err)
	}
	if len(b) < 12 {
		return fmt.Errorf("ceph key: %d bytes, too short", len(b))
	}
	if t := binary.LittleEndian.Uint16(b[0:]); t != cephCryptoAES {
		return fmt.Errorf("ceph key: type %d, want %d (AES)", t, cephCryptoAES)
	}
	if n := int(binary.LittleEndian.Uint16(b[10:])); n != cephSecretSize || len(b) != 12+n {
		return fmt.Errorf("ceph key: secret of %d bytes in %d, want %d", n, len(b)-12, cephSecretSize)
	}
	return nil
}

// keyringEntry is one [entity] section of a Ceph keyring.
type keyringEntry struct {
	Entity string
	Key    string
	// Caps maps a service (mon, mgr, osd, mds) to its cap string.
	Caps map[string]string
}

// renderKeyring writes entries in the format ceph-authtool and `ceph auth
// get` print: "[entity]", a tab-indented "key = ..." and one
// `caps <svc> = "<caps>"` line per service, sorted.
func renderKeyring(entries ...keyringEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "[%s]\n\tkey = %s\n", e.Entity, e.Key)
		svcs := make([]string, 0, len(e.Caps))
		for s := range e.Caps {
			svcs = append(svcs, s)
		}
		sort.Strings(svcs)
		for _, s := range svcs {
			fmt.Fprintf(&b, "\tcaps %s = %q\n", s, e.Caps[s])
		}
	}
	return b.String()
}

// parseKeyring reads the sections of a keyring ("auth get" output, a
// keyring file). Unknown lines are ignored; a "pending key" wins over the
// key, as cephadm's get_keyring_with_caps does (the key is being rotated).
func parseKeyring(text string) []keyringEntry {
	var out []keyringEntry
	var cur *keyringEntry
	pending := map[int]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			out = append(out, keyringEntry{Entity: strings.TrimSpace(line[1 : len(line)-1]), Caps: map[string]string{}})
			cur = &out[len(out)-1]
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if cur == nil || !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "key":
			cur.Key = v
		case k == "pending key":
			pending[len(out)-1] = v
		case strings.HasPrefix(k, "caps "):
			cur.Caps[strings.TrimSpace(strings.TrimPrefix(k, "caps "))] = strings.Trim(v, `"`)
		}
	}
	for i, v := range pending {
		out[i].Key = v
	}
	return out
}

// minimalKeyring is cephadm's stripped keyring for a daemon: the entity
// and its key only (caps live in the monitors; get-or-create prints no
// caps and `auth get` does).
func minimalKeyring(entity, key string) string {
	return "[" + entity + "]\n\tkey = " + key + "\n"
}

// randomLetters draws n lowercase letters from crypto/rand (mgr ids),
// uniformly: bytes of 234 and above (26·9) are drawn again.
func randomLetters(n int) (string, error) {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	out := make([]byte, 0, n)
	var b [1]byte
	for len(out) < n {
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		if int(b[0]) < 26*9 {
			out = append(out, letters[int(b[0])%26])
		}
	}
	return string(out), nil
}
