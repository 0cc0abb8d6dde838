package ring

import "errors"

// Sentinel errors. Functions wrap them with %w and detail; test with
// errors.Is.
var (
	// ErrInvalidPartitions: a partition count that is not a power of two
	// between 1 and Slots.
	ErrInvalidPartitions = errors.New("ring: invalid partition count")
	// ErrInvalidReplicas: a replica count N below 1 or above MaxReplicas.
	ErrInvalidReplicas = errors.New("ring: invalid replica count")
	// ErrInvalidMember: a member with a bad ID, weight or status.
	ErrInvalidMember = errors.New("ring: invalid member")
	// ErrDuplicateMember: a member ID listed twice, or a Join of a node
	// that is already joined.
	ErrDuplicateMember = errors.New("ring: duplicate member")
	// ErrUnknownMember: a node ID that is not a member of the ring.
	ErrUnknownMember = errors.New("ring: unknown member")
	// ErrNoMembers: a change that would leave the ring without any joined
	// member (for example the last joined node leaving).
	ErrNoMembers = errors.New("ring: no joined members")
	// ErrNotLeaving: Remove of a member that is still joined.
	ErrNotLeaving = errors.New("ring: member is not leaving")
	// ErrMoving: Remove of a leaving member whose partitions are still
	// being handed off (it is in the old set of a moving partition).
	ErrMoving = errors.New("ring: member still hands partitions off")
	// ErrInvalidState: bytes given to Decode that are not a valid encoded
	// State.
	ErrInvalidState = errors.New("ring: invalid state")
)
