package member

import (
	"crypto/sha256"
	"errors"
)

// Messages of this package, carried as memberlist user messages (gossip over
// UDP, or SendReliable over TCP) and as push/pull user state. Each starts
// with a kind byte; unknown kinds are ignored, so a newer node can add kinds
// without breaking older ones.
//
//	kindState  | state bytes            the whole cluster state
//	kindNotice | digest (32) | sender   "sender's state has this SHA-256"
//	kindPull   | requester              "send me your state" (TCP)
//	kindLeave  | sender                 "I am leaving gracefully" (TCP)
//	kindLeaveAck | sender               "noted" (TCP), so Leave can wait
const (
	kindState    byte = 1
	kindNotice   byte = 2
	kindPull     byte = 3
	kindLeave    byte = 4
	kindLeaveAck byte = 5
)

const digestLen = sha256.Size

type digest [digestLen]byte

func digestOf(state []byte) digest { return sha256.Sum256(state) }

var errShortMessage = errors.New("member: short message")

func encodeState(state []byte) []byte {
	b := make([]byte, 0, 1+len(state))
	b = append(b, kindState)
	return append(b, state...)
}

func encodeNotice(d digest, sender string) []byte {
	b := make([]byte, 0, 1+digestLen+len(sender))
	b = append(b, kindNotice)
	b = append(b, d[:]...)
	return append(b, sender...)
}

func decodeNotice(body []byte) (digest, string, error) {
	var d digest
	if len(body) < digestLen {
		return d, "", errShortMessage
	}
	copy(d[:], body)
	return d, string(body[digestLen:]), nil
}

func encodeID(kind byte, id string) []byte {
	b := make([]byte, 0, 1+len(id))
	b = append(b, kind)
	return append(b, id...)
}
