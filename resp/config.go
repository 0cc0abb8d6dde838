package resp

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// Config configures a Server. Zero numeric fields take their defaults (see
// DefaultConfig), so the zero Config is a valid configuration.
type Config struct {
	// RequirePass, when set, is the password of the "default" user: every
	// command but AUTH, HELLO and QUIT is refused until the client
	// authenticates (Redis's requirepass).
	RequirePass string
	// ACLFile, when set, is Redis's aclfile: the users are read from it
	// when the server starts (an error, a missing file included, fails
	// Serve), ACL LOAD reads it again and ACL SAVE writes it.
	ACLFile string

	// MaxClients is the most connections served at once; a connection
	// beyond it gets "-ERR max number of clients reached" and is closed
	// (Redis's maxclients). Peer connections do not count once they have
	// presented the cluster secret (DKV.AUTH), so clients filling the
	// limit do not cut the nodes off from each other; a new peer
	// connection still needs a free slot for its DKV.AUTH.
	MaxClients int
	// IdleTimeout closes a connection whose client has sent nothing for
	// this long (Redis's timeout); 0 means never.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a client, so a client that stops
	// reading its replies is dropped instead of holding memory and a
	// goroutine forever; 0 means no bound (as Redis with no
	// client-output-buffer-limit for normal clients).
	WriteTimeout time.Duration

	// MaxBulkLen is the largest bulk argument, in bytes (Redis's
	// proto-max-bulk-len).
	MaxBulkLen int64
	// MaxArgs is the most arguments one command may have (Redis's
	// multibulk limit).
	MaxArgs int64
	// MaxInlineLen is the longest inline (telnet-style) command line, in
	// bytes, '\r' included (Redis's PROTO_INLINE_MAX_SIZE).
	MaxInlineLen int
	// MaxQueryBuffer is the largest command, in bytes with its framing: the
	// most a connection buffers before a command is complete (Redis's
	// client-query-buffer-limit). Memory per connection can reach a small
	// multiple of it while a command of that size is parsed.
	MaxQueryBuffer int64

	// Version is the Redis version the server claims in HELLO and INFO.
	Version string
	// Mode is reported as HELLO's "mode" and INFO's redis_mode; empty
	// means "cluster" when Cluster is set, "standalone" otherwise.
	Mode string

	// ClusterSecret, when set, enables DKV.AUTH (peer.CmdAuth): a
	// connection that presents it becomes a peer connection (see the
	// package documentation), which may call the internal commands
	// (resp.FlagPeer; the replica operations are registered by package
	// peerserver) and sends forwarded writes. Without it no connection
	// becomes a peer one.
	ClusterSecret string
	// Cluster is the node's view of the cluster, nil for a lone node. With
	// it, the CLUSTER commands describe the ring and writes to keys this
	// node does not coordinate are forwarded (see the package
	// documentation). Forwarded writes travel on peer connections, so a
	// node that receives them needs ClusterSecret; a node without one (a
	// one-node ring) accepts no forwarded writes and so takes part in no
	// forwarding loop.
	Cluster Cluster
	// Databases holds the databases' flush epochs and flushes them
	// (FLUSHDB, FLUSHALL) cluster-wide; nil keeps them in the server's
	// memory (a lone server without a ring, tests).
	Databases Databases

	// PeerTLS, when set, makes DKV.AUTH require a TLS connection (one of
	// ServeTLS or ServeClusterClientsTLS) whose handshake state it
	// accepts (nil error), besides the cluster secret: the node's
	// tls-cluster yes, where it checks the other node's client
	// certificate against the cluster's CA. A refused DKV.AUTH gets the
	// same "-WRONGPASS" reply as a wrong secret and the connection is
	// closed.
	PeerTLS func(tls.ConnectionState) error

	// Params are extra CONFIG parameters (the node's tls-* ones), added
	// after the built-in ones: one of the same name replaces the
	// built-in.
	Params []Param

	// InfoSections are extra INFO sections (replication, cluster, …),
	// shown after the built-in server, clients and stats sections and
	// before keyspace, in this order.
	InfoSections []InfoSection
}

// InfoSection is an extra section of the INFO command.
type InfoSection struct {
	// Name is the section's name, lower case ("replication"); INFO shows
	// it capitalised ("# Replication").
	Name string
	// Default includes the section in a plain INFO (as well as in INFO
	// all, INFO everything and INFO <name>).
	Default bool
	// Fields returns the section's lines. It is called from client
	// goroutines, concurrently, and must be safe for that.
	Fields func() []InfoField
}

// InfoField is one "name:value" line of INFO.
type InfoField struct {
	Name, Value string
}

// Default limits, those of Redis 7.
const (
	DefaultMaxClients     = 10000       // maxclients
	DefaultMaxBulkLen     = 512 << 20   // proto-max-bulk-len: 512 MiB
	DefaultMaxArgs        = 1024 * 1024 // arguments of one command
	DefaultMaxInlineLen   = 64 << 10    // PROTO_INLINE_MAX_SIZE: 64 KiB
	DefaultMaxQueryBuffer = 1 << 30     // client-query-buffer-limit: 1 GiB
	DefaultVersion        = "7.0.0"     // the Redis version claimed
)

// DefaultConfig returns the defaults, Redis's own.
func DefaultConfig() Config {
	return Config{
		MaxClients:     DefaultMaxClients,     // maxclients 10000
		IdleTimeout:    0,                     // timeout 0: idle clients stay
		WriteTimeout:   0,                     // no output deadline
		MaxBulkLen:     DefaultMaxBulkLen,     // proto-max-bulk-len 512mb
		MaxArgs:        DefaultMaxArgs,        // 1024*1024 arguments
		MaxInlineLen:   DefaultMaxInlineLen,   // PROTO_INLINE_MAX_SIZE 64kb
		MaxQueryBuffer: DefaultMaxQueryBuffer, // client-query-buffer-limit 1gb
		Version:        DefaultVersion,        // what HELLO and INFO claim: Redis 7.0
		// Mode stays empty: "standalone", or "cluster" once a Cluster is set.
	}
}

// EnsureDefaults fills the zero fields that have a default (Mode:
// "cluster" with a Cluster, "standalone" without).
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.MaxClients == 0 {
		c.MaxClients = d.MaxClients
	}
	if c.MaxBulkLen == 0 {
		c.MaxBulkLen = d.MaxBulkLen
	}
	if c.MaxArgs == 0 {
		c.MaxArgs = d.MaxArgs
	}
	if c.MaxInlineLen == 0 {
		c.MaxInlineLen = d.MaxInlineLen
	}
	if c.MaxQueryBuffer == 0 {
		c.MaxQueryBuffer = d.MaxQueryBuffer
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.Mode == "" {
		c.Mode = "standalone"
		if c.Cluster != nil {
			c.Mode = "cluster"
		}
	}
}

var builtinSections = []string{"server", "clients", "stats", "keyspace"}

// Validate reports the first invalid field, wrapping ErrConfig: limits
// below 1, negative timeouts, a newline in Version or Mode, a bad or
// duplicate INFO section.
func (c *Config) Validate() error {
	switch {
	case c.MaxClients < 1:
		return fmt.Errorf("%w: MaxClients %d < 1", ErrConfig, c.MaxClients)
	case c.IdleTimeout < 0 || c.WriteTimeout < 0:
		return fmt.Errorf("%w: negative timeout", ErrConfig)
	case c.MaxBulkLen < 1:
		return fmt.Errorf("%w: MaxBulkLen %d < 1", ErrConfig, c.MaxBulkLen)
	case c.MaxArgs < 1 || c.MaxArgs > 1<<31-1:
		return fmt.Errorf("%w: MaxArgs %d outside 1..2^31-1", ErrConfig, c.MaxArgs)
	case c.MaxInlineLen < 1:
		return fmt.Errorf("%w: MaxInlineLen %d < 1", ErrConfig, c.MaxInlineLen)
	case c.MaxQueryBuffer < 1:
		return fmt.Errorf("%w: MaxQueryBuffer %d < 1", ErrConfig, c.MaxQueryBuffer)
	case strings.ContainsAny(c.Version+c.Mode, "\r\n"):
		return fmt.Errorf("%w: newline in Version or Mode", ErrConfig)
	}
	seen := map[string]bool{}
	for _, n := range builtinSections {
		seen[n] = true
	}
	for _, s := range c.InfoSections {
		if s.Name == "" || s.Name != strings.ToLower(s.Name) || strings.ContainsAny(s.Name, " \r\n") || s.Fields == nil {
			return fmt.Errorf("%w: bad INFO section %q", ErrConfig, s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("%w: duplicate INFO section %q", ErrConfig, s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

func (c *Config) frameLimits() frameLimits {
	return frameLimits{
		maxBulk:   c.MaxBulkLen,
		maxArgs:   c.MaxArgs,
		maxInline: c.MaxInlineLen,
		maxQuery:  c.MaxQueryBuffer,
		bigArg:    bigArgLen,
	}
}
