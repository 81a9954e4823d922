package hostlab

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
)

// lockPath serialises subnet and prefix allocation between labs (other
// processes included). The empty file stays; nothing else does.
const lockPath = "/run/lock/orch-hostlab.lock"

// globalLock takes an exclusive flock on lockPath; call the returned func to
// release it.
func globalLock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll("/run/lock", 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", lockPath, err)
		}
		return func() { f.Close() }, nil
	case <-ctx.Done():
		// Closing the file releases the lock if the goroutine gets it late.
		go func() { <-done; f.Close() }()
		return nil, ctx.Err()
	}
}

// usedPrefixes returns the IPv4 prefixes in use in the machine's network
// namespace: interface addresses and main-table routes (default excluded).
func usedPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil, fmt.Errorf("read routes: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 8 || fl[0] == "Iface" {
			continue
		}
		dst, err1 := hexIPv4(fl[1])
		mask, err2 := hexIPv4(fl[7])
		if err1 != nil || err2 != nil {
			continue
		}
		bits, _ := net.IPMask(mask.AsSlice()).Size()
		if bits == 0 {
			continue // default route
		}
		out = append(out, netip.PrefixFrom(dst, bits).Masked())
	}
	return out, sc.Err()
}

// hexIPv4 decodes /proc/net/route's little-endian hex address.
func hexIPv4(s string) (netip.Addr, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, fmt.Errorf("bad address %q", s)
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(b))
	return netip.AddrFrom4(a), nil
}

// pickSubnet returns the first 10.77.X.0/24 (X from 0) that overlaps none
// of used.
func pickSubnet(used []netip.Prefix) (string, error) {
	for x := 0; x < 256; x++ {
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, byte(x), 0}), 24)
		free := true
		for _, u := range used {
			if u.Overlaps(cand) {
				free = false
				break
			}
		}
		if free {
			return fmt.Sprintf("10.77.%d", x), nil
		}
	}
	return "", fmt.Errorf("no free /24 left in 10.77.0.0/16")
}

// netnsExists reports whether /run/netns/name exists.
func netnsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// linkExists reports whether the machine's namespace has a link called name.
func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}
