package resp

import (
	"context"
	"errors"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
)

var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("resp: invalid config")
	// ErrServerClosed is returned by Serve and ListenAndServe after Close.
	ErrServerClosed = errors.New("resp: server closed")
	// ErrProtocol reports a client stream that broke the RESP framing or a
	// limit; the connection's error reply is in the wrapping ProtocolError.
	ErrProtocol = errors.New("resp: protocol error")
	// ErrCommand reports a bad command registration.
	ErrCommand = errors.New("resp: bad command registration")
	// ErrServing reports a change that is only allowed before Serve.
	ErrServing = errors.New("resp: server already serving")
)

// Error replies with Redis's texts.
const (
	msgSyntax        = "ERR syntax error"
	msgNotInt        = "ERR value is not an integer or out of range"
	msgBadToken      = "ERR invalid context token"
	msgQuorumRange   = "ERR R and W must be between 1 and N"
	msgNoAuth        = "NOAUTH Authentication required."
	msgWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	msgInternal      = "ERR internal error"
	msgShuttingDown  = "ERR server is shutting down"
	msgBadClientName = "ERR Client names cannot contain spaces, newlines or special characters."
	msgNoPerm        = "NOPERM this command is reserved for cluster peers"
	msgBadSecret     = "WRONGPASS invalid cluster secret"
	msgCorruptObject = "ERR corrupt object"
	msgCrossSlot     = "CROSSSLOT Keys in request don't hash to the same slot"
	msgNoCluster     = "ERR This instance has cluster support disabled"
	msgForgetMyself  = "ERR I tried hard but I can't forget myself..."
	msgWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNotFloat      = "ERR value is not a valid float"
)

// errorReply maps an error from a backend to its RESP error reply (without
// the leading '-'). This is the one place where dynakv's errors become
// RESP error codes.
func errorReply(err error) string {
	if msg, ok := crdtReply(err); ok {
		return msg
	}
	switch {
	case errors.Is(err, coordinator.ErrNoQuorum):
		return "NOQUORUM " + err.Error()
	case errors.Is(err, coordinator.ErrQuorumRange):
		return msgQuorumRange
	case errors.Is(err, dvv.ErrBadToken), errors.Is(err, peer.ErrBadContext):
		return msgBadToken
	case errors.Is(err, coordinator.ErrNotReplica):
		// The ring changed between routing the write here and running it:
		// nothing was written, and routing again finds the key's replicas
		// (routeWrite retries on this code; a cluster client would too).
		return codeForwardLoop + " " + err.Error()
	case errors.Is(err, context.Canceled):
		return msgShuttingDown
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Reply
	}
	return "ERR " + err.Error()
}
