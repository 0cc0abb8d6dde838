package testseed

import (
	"flag"
	"math/rand/v2"
	"strings"
	"testing"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomized tests (0: a fresh one, logged so the run can be replayed)")

// Seed returns the seed for t: the -seed flag, or a fresh random one. It
// logs the seed and how to replay the top-level test with it.
func Seed(t testing.TB) uint64 {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = rand.Uint64() | 1
	}
	name := t.Name()
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i]
	}
	t.Logf("seed %d (replay: go test -run '^%s$' -seed %d)", s, name, s)
	return s
}
