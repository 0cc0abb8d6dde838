package ring

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
)

// NodeID is the stable name of a node ("n1"). It is 1 to MaxIDLen bytes with
// no space or control characters, so it can appear in CLUSTER NODES output.
type NodeID string

// Status tells whether a member takes part in placement.
type Status string

const (
	// StatusJoined: the member owns its share of the partitions.
	StatusJoined Status = "joined"
	// StatusLeaving: the member's partitions have been given to others and
	// it is handing their data off; it owns nothing and is kept in the ring
	// only so that peers can find it, until Remove.
	StatusLeaving Status = "leaving"
)

// Limits on members and replicas.
const (
	MaxIDLen    = 255   // longest NodeID, in bytes
	MaxWeight   = 65535 // largest member weight
	MaxReplicas = 64    // largest replica count N
	// DefaultReplicas is the replica count N of DefaultConfig and the one
	// default N of dynakv (node, cluster, coordinator): 1, so that a lone
	// node works out of the box. A cluster sets N explicitly (dynakv dev
	// runs Dynamo's usual N=3, R=2, W=2).
	DefaultReplicas = 1
)

// Member is a node of the ring.
type Member struct {
	ID         NodeID `json:"id"`
	Addr       string `json:"addr"`        // RESP (client) address, host:port
	GossipAddr string `json:"gossip_addr"` // memberlist address, host:port
	// Weight is the member's relative capacity, 1..MaxWeight: it owns a
	// share of the partitions proportional to its weight.
	Weight int `json:"weight"`
	// Status is StatusJoined or StatusLeaving in a State; Claim also takes
	// the zero Status as joined.
	Status Status `json:"status"`
}

func (m Member) validate() error {
	if err := validateID(m.ID); err != nil {
		return err
	}
	if m.Weight < 1 || m.Weight > MaxWeight {
		return fmt.Errorf("%w: %q: weight %d not in 1..%d", ErrInvalidMember, m.ID, m.Weight, MaxWeight)
	}
	switch m.Status {
	case "", StatusJoined, StatusLeaving:
	default:
		return fmt.Errorf("%w: %q: status %q", ErrInvalidMember, m.ID, m.Status)
	}
	return nil
}

func validateID(id NodeID) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return fmt.Errorf("%w: id length %d not in 1..%d", ErrInvalidMember, len(id), MaxIDLen)
	}
	for i := range len(id) {
		if id[i] <= ' ' || id[i] == 0x7f {
			return fmt.Errorf("%w: id %q has a space or control character", ErrInvalidMember, id)
		}
	}
	return nil
}

func validateReplicas(n int) error {
	if n < 1 || n > MaxReplicas {
		return fmt.Errorf("%w: %d not in 1..%d", ErrInvalidReplicas, n, MaxReplicas)
	}
	return nil
}

// Config holds the fixed parameters of a ring.
type Config struct {
	// Partitions is Q, the number of partitions: a power of two dividing
	// Slots. It cannot change once a ring exists.
	Partitions int
	// Replicas is N, the number of replicas of each key. Claim keeps any N
	// consecutive partitions on distinct nodes when it can.
	Replicas int
}

// DefaultConfig returns the defaults of a new ring.
func DefaultConfig() Config {
	return Config{
		// Q = 256 partitions of 64 slots each. Shares are exact to ±1
		// partition, so with S equal nodes to within S/256 (10% at 25
		// nodes): larger rings want a larger Q. Fixed once a ring exists.
		Partitions: DefaultPartitions,
		// N = 1: a lone node is a complete ring. Dynamo's usual N = 3 is
		// set explicitly by a cluster (dynakv dev does).
		Replicas: DefaultReplicas,
	}
}

// Validate returns an error wrapping ErrInvalidPartitions or
// ErrInvalidReplicas if c is unusable.
func (c Config) Validate() error {
	if err := ValidatePartitions(c.Partitions); err != nil {
		return err
	}
	return validateReplicas(c.Replicas)
}

// State is one version of the ring: its members, the partition → owner
// table and the replica count. A State is immutable: methods that change
// the ring return a new State with Version+1, and a *State may be shared by
// any number of goroutines without locks.
//
// Every State satisfies: members are sorted by ID, distinct and valid; at
// least one is joined; every partition is owned by a joined member;
// leaving members own nothing.
type State struct {
	version  uint64
	replicas int
	members  []Member
	index    map[NodeID]int32 // member ID → index in members
	owners   []int32          // partition → index in members
	// pending maps each moving partition to its old set (see Moving);
	// nil or empty when nothing moves.
	pending map[int][]NodeID
	// flush holds each database's flush epoch (FlushEpoch); all zero
	// until the first FLUSHDB or FLUSHALL.
	flush  [Databases]uint64
	digest [sha256.Size]byte
}

// New returns the first version (Version 1) of a ring whose members are
// members, all joined (their Status is ignored), with partitions laid out by
// Claim. It returns an error wrapping ErrInvalidPartitions,
// ErrInvalidReplicas, ErrInvalidMember, ErrDuplicateMember or ErrNoMembers.
func New(cfg Config, members []Member) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ms := slices.Clone(members)
	for i := range ms {
		ms[i].Status = StatusJoined
	}
	res, err := Claim(make([]NodeID, cfg.Partitions), ms, cfg.Replicas)
	if err != nil {
		return nil, err
	}
	return build(1, cfg.Replicas, ms, res.Owners)
}

// build makes a State from parts, validating the invariants.
func build(version uint64, replicas int, members []Member, owners []NodeID) (*State, error) {
	if err := ValidatePartitions(len(owners)); err != nil {
		return nil, err
	}
	if err := validateReplicas(replicas); err != nil {
		return nil, err
	}
	s := &State{
		version:  version,
		replicas: replicas,
		members:  slices.Clone(members),
		index:    make(map[NodeID]int32, len(members)),
		owners:   make([]int32, len(owners)),
	}
	slices.SortFunc(s.members, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	joined := 0
	for i, m := range s.members {
		if err := m.validate(); err != nil {
			return nil, err
		}
		if m.Status == "" {
			return nil, fmt.Errorf("%w: %q: no status", ErrInvalidMember, m.ID)
		}
		if _, dup := s.index[m.ID]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateMember, m.ID)
		}
		s.index[m.ID] = int32(i)
		if m.Status == StatusJoined {
			joined++
		}
	}
	if joined == 0 {
		return nil, ErrNoMembers
	}
	for p, id := range owners {
		i, ok := s.index[id]
		if !ok {
			return nil, fmt.Errorf("%w: partition %d owned by %q", ErrUnknownMember, p, id)
		}
		if s.members[i].Status != StatusJoined {
			return nil, fmt.Errorf("%w: partition %d owned by %s member %q", ErrInvalidMember, p, s.members[i].Status, id)
		}
		s.owners[p] = i
	}
	s.digest = digestOf(s)
	return s, nil
}

func digestOf(s *State) [sha256.Size]byte { return sha256.Sum256(s.Encode()) }

// Version returns the version of the ring: it grows by one with every
// change.
func (s *State) Version() uint64 { return s.version }

// Replicas returns N, the replica count.
func (s *State) Replicas() int { return s.replicas }

// Partitions returns Q, the number of partitions.
func (s *State) Partitions() int { return len(s.owners) }

// Config returns the ring's partition and replica counts.
func (s *State) Config() Config {
	return Config{Partitions: len(s.owners), Replicas: s.replicas}
}

// Members returns a copy of the members, joined and leaving, sorted by ID.
func (s *State) Members() []Member { return slices.Clone(s.members) }

// Member returns the member with the given ID, if any.
func (s *State) Member(id NodeID) (Member, bool) {
	i, ok := s.index[id]
	if !ok {
		return Member{}, false
	}
	return s.members[i], true
}

// Owner returns the owner of partition p (taken modulo Q).
func (s *State) Owner(p int) NodeID { return s.members[s.owners[s.mod(p)]].ID }

// Owners returns a copy of the partition table: Owners()[p] owns p.
func (s *State) Owners() []NodeID {
	ids := make([]NodeID, len(s.owners))
	for p, i := range s.owners {
		ids[p] = s.members[i].ID
	}
	return ids
}

// KeyPartition returns the partition that holds the stored key key (its
// StoredSlot: the partition of its user key).
func (s *State) KeyPartition(key []byte) int { return PartitionOf(StoredSlot(key), len(s.owners)) }

func (s *State) mod(p int) int {
	q := len(s.owners)
	return (p%q + q) % q
}

// PreferenceList returns the preference list of partition p (taken modulo
// Q): its owner, then the owners of p+1, p+2, … (wrapping), skipping nodes
// already listed, until n distinct nodes, or fewer if fewer nodes own
// partitions. The first N entries are the replicas of p's keys.
func (s *State) PreferenceList(p, n int) []NodeID {
	switch {
	case n <= 0:
		return nil
	case n > 16:
		return s.walk(p, n, make([]bool, len(s.members)))
	}
	return s.walk(p, n, nil)
}

// Walk returns every joined member once, in the order a sloppy quorum falls
// back on them for partition p: the preference list of p continued around
// the ring to every owner, then joined members that own no partition
// (possible when a share rounds down to zero), by ID. Walk(p)[:N] is
// PreferenceList(p, N).
func (s *State) Walk(p int) []NodeID {
	list := s.walk(p, len(s.members), make([]bool, len(s.members)))
	if len(list) == len(s.members) {
		return list
	}
	seen := make(map[NodeID]bool, len(list))
	for _, id := range list {
		seen[id] = true
	}
	for _, m := range s.members {
		if m.Status == StatusJoined && !seen[m.ID] {
			list = append(list, m.ID)
		}
	}
	return list
}

// walk collects up to n distinct owners from p on. With seen nil it dedups
// by scanning the list (fast for small n); otherwise seen must have one
// false entry per member.
func (s *State) walk(p, n int, seen []bool) []NodeID {
	q := len(s.owners)
	n = min(n, len(s.members))
	idx := make([]int32, 0, n)
	p = s.mod(p)
	for step := 0; step < q && len(idx) < n; step++ {
		i := s.owners[p]
		if p++; p == q {
			p = 0
		}
		if seen == nil && slices.Contains(idx, i) || seen != nil && seen[i] {
			continue
		}
		if seen != nil {
			seen[i] = true
		}
		idx = append(idx, i)
	}
	ids := make([]NodeID, len(idx))
	for k, i := range idx {
		ids[k] = s.members[i].ID
	}
	return ids
}

// PartitionsOf returns the partitions owned by id, in increasing order
// (none for non-members and leaving members).
func (s *State) PartitionsOf(id NodeID) []int {
	i, ok := s.index[id]
	if !ok {
		return nil
	}
	var ps []int
	for p, o := range s.owners {
		if o == i {
			ps = append(ps, p)
		}
	}
	return ps
}

// Clone returns a deep copy of s. States are immutable and safe to share,
// so Clone is only needed by code that wants a value that shares no memory
// with s.
func (s *State) Clone() *State {
	c := *s
	c.members = slices.Clone(s.members)
	c.owners = slices.Clone(s.owners)
	c.index = make(map[NodeID]int32, len(s.index))
	for k, v := range s.index {
		c.index[k] = v
	}
	c.pending = s.clonePending()
	return &c
}

// Equal reports whether s and o hold the same ring (same version, members,
// replicas and table).
func (s *State) Equal(o *State) bool { return s.digest == o.digest }

// Digest returns the SHA-256 of s.Encode(): equal digests mean equal States.
// Gossip can compare digests before sending a whole State.
func (s *State) Digest() [sha256.Size]byte { return s.digest }

// Join returns the ring with m added as a joined member and partitions
// reclaimed so that m gets its share. A leaving member may join again
// (its leave is cancelled). m.Status is ignored. The error wraps
// ErrInvalidMember or ErrDuplicateMember (m is already joined).
func (s *State) Join(m Member) (*State, ClaimResult, error) {
	m.Status = StatusJoined
	if err := m.validate(); err != nil {
		return nil, ClaimResult{}, err
	}
	ms := slices.Clone(s.members)
	if i, ok := s.index[m.ID]; ok {
		if ms[i].Status == StatusJoined {
			return nil, ClaimResult{}, fmt.Errorf("%w: %q is already joined", ErrDuplicateMember, m.ID)
		}
		ms[i] = m
	} else {
		ms = append(ms, m)
	}
	return s.reclaim(ms)
}

// Leave returns the ring with id marked leaving: its partitions go to the
// other joined members (by Claim), and it stays a member, owning nothing,
// until Remove. The error wraps ErrUnknownMember, or ErrNoMembers if id is
// the last joined member. Leaving twice is an ErrUnknownMember error too:
// id is not a joined member.
func (s *State) Leave(id NodeID) (*State, ClaimResult, error) {
	i, ok := s.index[id]
	if !ok || s.members[i].Status != StatusJoined {
		return nil, ClaimResult{}, fmt.Errorf("%w: %q is not joined", ErrUnknownMember, id)
	}
	ms := slices.Clone(s.members)
	ms[i].Status = StatusLeaving
	return s.reclaim(ms)
}

// Remove returns the ring without the leaving member id, once it has handed
// its data off. Ownership does not change. The error wraps
// ErrUnknownMember, ErrNotLeaving, or ErrMoving if id is still in the old
// set of a moving partition.
func (s *State) Remove(id NodeID) (*State, error) {
	i, ok := s.index[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMember, id)
	}
	if s.members[i].Status != StatusLeaving {
		return nil, fmt.Errorf("%w: %q", ErrNotLeaving, id)
	}
	if s.Involved(id) {
		return nil, fmt.Errorf("%w: %q", ErrMoving, id)
	}
	ms := slices.Delete(slices.Clone(s.members), int(i), int(i)+1)
	ns, err := buildPending(s.version+1, s.replicas, ms, s.Owners(), s.clonePending())
	return s.carry(ns), err
}

// Forget returns the ring without member id (joined or leaving), its
// partitions given to the others by Claim: for a node that is gone for
// good. The error wraps ErrUnknownMember, or ErrNoMembers if id is the last
// joined member.
func (s *State) Forget(id NodeID) (*State, ClaimResult, error) {
	i, ok := s.index[id]
	if !ok {
		return nil, ClaimResult{}, fmt.Errorf("%w: %q", ErrUnknownMember, id)
	}
	ms := slices.Delete(slices.Clone(s.members), int(i), int(i)+1)
	return s.reclaim(ms)
}

// Update returns the ring with member m.ID's addresses and weight replaced
// by m's (its Status is kept). If the weight changes, partitions are
// reclaimed; otherwise the table is kept and the ClaimResult holds only
// Owners. The error wraps ErrUnknownMember or ErrInvalidMember.
func (s *State) Update(m Member) (*State, ClaimResult, error) {
	i, ok := s.index[m.ID]
	if !ok {
		return nil, ClaimResult{}, fmt.Errorf("%w: %q", ErrUnknownMember, m.ID)
	}
	m.Status = s.members[i].Status
	if err := m.validate(); err != nil {
		return nil, ClaimResult{}, err
	}
	ms := slices.Clone(s.members)
	ms[i] = m
	if m.Weight == s.members[i].Weight {
		owners := s.Owners()
		ns, err := buildPending(s.version+1, s.replicas, ms, owners, s.clonePending())
		if err != nil {
			return nil, ClaimResult{}, err
		}
		return s.carry(ns), ClaimResult{Owners: owners}, nil
	}
	return s.reclaim(ms)
}

// reclaim runs Claim on the current table with members ms and builds the
// next version, with the partitions whose replicas change moving (see
// Moving).
func (s *State) reclaim(ms []Member) (*State, ClaimResult, error) {
	res, err := Claim(s.Owners(), ms, s.replicas)
	if err != nil {
		return nil, ClaimResult{}, err
	}
	pending, err := s.nextPending(ms, res.Owners)
	if err != nil {
		return nil, ClaimResult{}, err
	}
	ns, err := buildPending(s.version+1, s.replicas, ms, res.Owners, pending)
	if err != nil {
		return nil, ClaimResult{}, err
	}
	return s.carry(ns), res, nil
}
