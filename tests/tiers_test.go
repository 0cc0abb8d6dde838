package tests

import (
	"os"
	"testing"
	"time"
)

// e2eVar names the environment variable that turns on the heavy tier: the
// multi-process tests beyond the short slice, and the Docker tests. `go
// test ./...` leaves it unset and runs only the short slice (a lone process
// through every command and the data types, and a 3-node cluster losing
// each node in turn);
// .ci/run sets it: DYNAKV_E2E=1 go test ./tests/...
const e2eVar = "DYNAKV_E2E"

// heavy skips t unless DYNAKV_E2E=1: t belongs to the heavy multi-process
// or Docker tier, which `go test ./...` does not run.
func heavy(t *testing.T) {
	t.Helper()
	if os.Getenv(e2eVar) != "1" {
		t.Skipf("heavy tier (multi-process and Docker tests): set %s=1 to run it (.ci/run does)", e2eVar)
	}
}

// eventually's polling: first after pollFirst, then twice as long each
// time up to pollMax. A quick condition is seen at once; a slow one (a scan
// of a thousand keys on every node) does not keep a loaded machine busy;
// and a test that acts once a condition holds (killing a node in
// mid-handoff) acts within 100 ms of it.
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 100 * time.Millisecond
)

// eventually calls cond until it returns nil, and fails t with what, the
// timeout and cond's last error once timeout has passed without that. cond
// may itself fail t (t.Fatal) on a condition that can never come true. It
// is the one polling loop of the multi-process tier: processes converge in
// the background, so tests wait for a condition, never for a fixed time.
func eventually(t testing.TB, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for wait := pollFirst; ; wait = min(2*wait, pollMax) {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %v: %v", what, timeout, err)
		}
		time.Sleep(wait)
	}
}
