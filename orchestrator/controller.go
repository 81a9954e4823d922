package orchestrator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/orchceph/orch/store"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
)

// Options configure a Controller.
type Options struct {
	Store  *store.Store
	Remote Remote
	// Logger defaults to zerolog.Nop().
	Logger *zerolog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// AgentBinary is the orch binary pushed to hosts (normally the
	// controller's own executable).
	AgentBinary string
	// Resolve looks up a host name; defaults to the system resolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// CheckTimeout bounds one remote host check (default 60 s).
	CheckTimeout time.Duration
}

// Controller is the orchestrator behind the API.
type Controller struct {
	st      *store.Store
	remote  Remote
	log     zerolog.Logger
	now     func() time.Time
	agent   string
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	checkTO time.Duration

	// hostMu serialises changes to hosts and to the SSH identity, so that
	// two concurrent "host add" calls for one host cannot both pin a key.
	hostMu sync.Mutex

	// refresh is the host-refresh state (refresh_state.go).
	refresh *refreshRuntime
	// boot is the bootstrap state (bootstrap.go).
	boot *bootRuntime

	// signerMu guards the parsed cluster key and the digest of the secret
	// it was parsed from.
	signerMu    sync.Mutex
	signerCache ssh.Signer
	signerSum   [32]byte
}

// New returns a Controller, creating the cluster record (with a new fsid)
// on first use.
func New(o Options) (*Controller, error) {
	if o.Store == nil || o.Remote == nil {
		return nil, errors.New("orchestrator: Store and Remote are required")
	}
	c := &Controller{st: o.Store, remote: o.Remote, log: zerolog.Nop(), now: time.Now,
		agent: o.AgentBinary, resolve: o.Resolve, checkTO: o.CheckTimeout, refresh: newRefreshRuntime(), boot: &bootRuntime{}}
	if o.Logger != nil {
		c.log = *o.Logger
	}
	if o.Now != nil {
		c.now = o.Now
	}
	if c.resolve == nil {
		c.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if c.checkTO == 0 {
		c.checkTO = 60 * time.Second
	}
	if _, err := c.st.GetCluster(); errors.Is(err, store.ErrNotFound) {
		fsid, err := newUUID()
		if err != nil {
			return nil, err
		}
		if err := c.st.PutCluster(store.Cluster{FSID: fsid, SSHUser: "root"}); err != nil {
			return nil, err
		}
		c.log.Info().Str("fsid", fsid).Msg("created cluster record")
	} else if err != nil {
		return nil, err
	}
	return c, nil
}

// Cluster returns the cluster record.
func (c *Controller) Cluster() (store.Cluster, error) { return c.st.GetCluster() }

// newUUID returns a random RFC 4122 version-4 UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate fsid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
