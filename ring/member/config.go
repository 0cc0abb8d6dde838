package member

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// Sentinel errors. Errors returned by this package wrap one of them; test
// with errors.Is.
var (
	// ErrInvalidConfig reports a Config that Start cannot use.
	ErrInvalidConfig = errors.New("member: invalid config")
	// ErrMetaTooLarge reports Config.Meta longer than MaxMetaSize.
	ErrMetaTooLarge = errors.New("member: meta too large")
	// ErrStart reports that memberlist could not be created (typically the
	// gossip address could not be bound).
	ErrStart = errors.New("member: start failed")
	// ErrJoin reports that none of the given addresses could be joined.
	ErrJoin = errors.New("member: join failed")
	// ErrLeave reports that a graceful leave could not be confirmed in time.
	ErrLeave = errors.New("member: leave failed")
	// ErrClosed reports a call on a Membership that has been shut down.
	ErrClosed = errors.New("member: membership shut down")
)

// MaxMetaSize is the largest Config.Meta accepted: memberlist's limit on
// node metadata, which rides in every alive message.
const MaxMetaSize = memberlist.MetaMaxSize

// DefaultBindAddr is the gossip address used when Config.BindAddr is empty:
// all interfaces, memberlist's customary port.
const DefaultBindAddr = "0.0.0.0:7946"

// StateHandler owns the cluster state that this package spreads (for dynakv,
// the encoded ring table). The package never looks inside the bytes.
//
// Both methods are called from memberlist's goroutines (the packet handler,
// stream handlers, the push/pull timer) and from the caller's goroutine in
// Broadcast, possibly concurrently: implementations must be safe for
// concurrent use and must not block for long, since a slow MergeState delays
// the processing of gossip packets.
type StateHandler interface {
	// LocalState returns the current encoded cluster state. It is sent in
	// push/pull exchanges, in broadcasts and in replies to state requests.
	// The package does not modify the returned slice.
	LocalState() []byte
	// MergeState is given a peer's encoded state. It applies it if it is
	// newer (by whatever rule the state defines) and reports whether the
	// local state changed. remote is owned by the callee.
	MergeState(remote []byte) (changed bool)
}

// Config configures a Membership. The zero value of every field except
// NodeID and State is valid and means "the default", as set by
// DefaultConfig.
type Config struct {
	// NodeID is this node's stable, unique name (memberlist's node name).
	NodeID string

	// BindAddr is the "ip:port" the gossip listener binds, for both UDP
	// (probes, gossip) and TCP (push/pull, state transfer). Port 0 picks a
	// free port. The host must be an IP address. Ignored when Transport is
	// set. Default DefaultBindAddr.
	BindAddr string

	// AdvertiseAddr is the "ip:port" other members use to reach this node,
	// when it differs from BindAddr (NAT, containers). A missing port means
	// the bound port. Default: the bound address (or, when bound to
	// 0.0.0.0, a private IP of this host).
	AdvertiseAddr string

	// Meta is opaque data published with this node, e.g. its RESP address.
	// At most MaxMetaSize bytes. It is fixed for the life of the
	// Membership.
	Meta []byte

	// Join lists "host:port" gossip addresses of existing members to join
	// at start. Addresses of this node itself are skipped. See Start.
	Join []string

	// State is the cluster state to spread. Required.
	State StateHandler

	// Events, if set, is called once for each observed change of a member:
	// when it is first seen, when its Liveness changes, and when its
	// address or Meta changes; the argument is the member's new view. It
	// is also called for this node itself.
	//
	// Events is called from a single goroutine owned by the Membership, in
	// the order the changes were observed, never concurrently with itself.
	// It is decoupled from memberlist by a queue, so a slow callback delays
	// later events but never gossip. It may call Members and Liveness; it
	// must not call Leave or Shutdown (Shutdown waits for it to return).
	Events func(Member)

	// ProbeInterval is the failure detector's period: each interval
	// memberlist probes one member (round robin), so a failed member is
	// noticed within about N probe intervals somewhere in the cluster.
	// Lower detects failures faster at the cost of bandwidth. It also
	// paces this package's suspicion checks (see Suspect). Default 1s
	// (memberlist.DefaultLANConfig).
	ProbeInterval time.Duration

	// ProbeTimeout is how long a probe waits for a direct ack before
	// asking other members to probe indirectly; about the 99th percentile
	// RTT. Default 500ms, or ProbeInterval/2 if that is smaller.
	ProbeTimeout time.Duration

	// SuspicionMult sets how long memberlist keeps a member suspect before
	// declaring it dead: SuspicionMult * max(1, log10(N)) * ProbeInterval.
	// Higher gives a slow-but-alive member more time to refute. Default 4.
	SuspicionMult int

	// GossipInterval is the period of the gossip that is not piggybacked
	// on probes: each interval, pending broadcasts (membership changes,
	// state broadcasts) go to a few random members. Lower spreads changes
	// faster at the cost of bandwidth. Default 200ms.
	GossipInterval time.Duration

	// PushPullInterval is the period of the full state sync with one
	// random member over TCP: memberlist's membership table plus
	// StateHandler.LocalState, both ways. It is the anti-entropy that
	// repairs whatever gossip missed. Default 30s.
	PushPullInterval time.Duration

	// ReconnectInterval is the period of the reconnect loop: each interval
	// this node tries to join every member it sees Dead (never a Left
	// one), as serf's reconnect does. memberlist stops probing a dead
	// member and gossips to it only for a while (30 probe intervals
	// here), so without it the two sides of a partition that outlasted
	// that window would stay apart after the network heals, each seeing
	// the other dead. Default 10s; negative: off.
	ReconnectInterval time.Duration

	// TCPTimeout bounds each step of a stream (TCP) exchange with another
	// member, memberlist's option of that name: the dial, the sending, and
	// the wait for the answer, of joins, push/pulls and state transfers.
	// A join to an address that accepts and never answers (no member's
	// gossip port) thus fails after about TCPTimeout per address; Shutdown
	// ends it sooner (see Membership.Join). Default 10s
	// (memberlist.DefaultLANConfig).
	TCPTimeout time.Duration

	// SecretKey, if set, encrypts and authenticates all gossip with AES-GCM
	// (16, 24 or 32 bytes: AES-128/192/256). Every member must use the same
	// key; traffic from nodes without it is rejected.
	SecretKey []byte

	// Transport replaces memberlist's UDP/TCP network transport, e.g. with
	// an in-memory network (see package membertest). BindAddr is then
	// ignored; the transport decides the address.
	Transport memberlist.Transport

	// Logger receives this package's logs; memberlist's own log lines are
	// forwarded to it at debug level. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in, taken from
// memberlist.DefaultLANConfig. NodeID and State must still be set.
func DefaultConfig() Config {
	lan := memberlist.DefaultLANConfig()
	return Config{
		BindAddr:          DefaultBindAddr,
		ProbeInterval:     lan.ProbeInterval,    // 1s: probe one member per second
		ProbeTimeout:      lan.ProbeTimeout,     // 500ms: a LAN RTT, generously
		SuspicionMult:     lan.SuspicionMult,    // suspect for 4 * log10(N) * ProbeInterval before dead
		GossipInterval:    lan.GossipInterval,   // 200ms: spread changes quickly
		PushPullInterval:  lan.PushPullInterval, // 30s: full sync is comparatively expensive
		ReconnectInterval: 10 * time.Second,     // try the dead members again: heals a long split
		TCPTimeout:        lan.TCPTimeout,       // 10s: each step of a join or state transfer
	}
}

// withDefaults returns c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.BindAddr == "" {
		c.BindAddr = d.BindAddr
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = d.ProbeInterval
	}
	if c.ProbeTimeout == 0 {
		// A probe must be able to time out and go indirect within its
		// interval.
		c.ProbeTimeout = min(d.ProbeTimeout, c.ProbeInterval/2)
	}
	if c.SuspicionMult == 0 {
		c.SuspicionMult = d.SuspicionMult
	}
	if c.GossipInterval == 0 {
		c.GossipInterval = d.GossipInterval
	}
	if c.PushPullInterval == 0 {
		c.PushPullInterval = d.PushPullInterval
	}
	if c.ReconnectInterval == 0 {
		c.ReconnectInterval = d.ReconnectInterval
	}
	if c.TCPTimeout == 0 {
		c.TCPTimeout = d.TCPTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate checks a Config that has been through withDefaults.
func (c Config) validate() error {
	switch {
	case c.NodeID == "":
		return fmt.Errorf("%w: NodeID is required", ErrInvalidConfig)
	case c.State == nil:
		return fmt.Errorf("%w: State is required", ErrInvalidConfig)
	case len(c.Meta) > MaxMetaSize:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMetaTooLarge, len(c.Meta), MaxMetaSize)
	case c.ProbeInterval < 0 || c.ProbeTimeout < 0 || c.GossipInterval < 0 || c.PushPullInterval < 0 || c.TCPTimeout < 0:
		return fmt.Errorf("%w: negative interval", ErrInvalidConfig)
	case c.ProbeTimeout >= c.ProbeInterval:
		return fmt.Errorf("%w: ProbeTimeout %v must be below ProbeInterval %v", ErrInvalidConfig, c.ProbeTimeout, c.ProbeInterval)
	case c.SuspicionMult < 1:
		return fmt.Errorf("%w: SuspicionMult %d must be at least 1", ErrInvalidConfig, c.SuspicionMult)
	}
	switch len(c.SecretKey) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("%w: SecretKey must be 16, 24 or 32 bytes, not %d", ErrInvalidConfig, len(c.SecretKey))
	}
	if c.Transport == nil {
		if _, _, err := splitIPPort(c.BindAddr, false); err != nil {
			return fmt.Errorf("%w: BindAddr: %w", ErrInvalidConfig, err)
		}
	}
	if c.AdvertiseAddr != "" {
		if _, _, err := splitIPPort(c.AdvertiseAddr, true); err != nil {
			return fmt.Errorf("%w: AdvertiseAddr: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// splitIPPort parses "ip:port" (or "ip" when portOptional; port is then 0).
func splitIPPort(s string, portOptional bool) (string, int, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		if !portOptional || net.ParseIP(s) == nil {
			return "", 0, fmt.Errorf("%q is not ip:port", s)
		}
		return s, 0, nil
	}
	if net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("%q: host must be an IP address", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", s)
	}
	return host, port, nil
}
