package antientropy_test

import (
	"fmt"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
	"math/rand/v2"
	"testing"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/replica/dvv"
)

// testSeed returns the seed for t (see internal/testseed: -seed replays).
func testSeed(t testing.TB) int64 { return int64(testseed.Seed(t)) }

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

func key(i int) []byte { return fmt.Appendf(nil, "key:%d", i) }

// object builds a one-sibling object written by actor at counter.
func object(actor string, counter uint64, value string) crdt.Object {
	return crdt.FromDVV(dvv.Object{
		Context:  dvv.VV{actor: counter},
		Siblings: []dvv.Sibling{{Dot: dvv.Dot{Actor: actor, Counter: counter}, Timestamp: int64(counter) * 1000, Value: []byte(value)}},
	})
}

// randObject returns a random valid object: one or two siblings, some
// tombstones, some expiries.
func randObject(r *rand.Rand) crdt.Object {
	actors := []string{"n1", "n2", "n3"}
	o := dvv.Object{}
	for range 1 + r.IntN(2) {
		a := actors[r.IntN(len(actors))]
		c, _ := dvv.NextCounter(o, nil, a)
		c += uint64(r.IntN(5))
		s := dvv.Sibling{Dot: dvv.Dot{Actor: a, Counter: c}, Timestamp: r.Int64N(1 << 40)}
		switch r.IntN(4) {
		case 0:
			s.Tombstone = true
		case 1:
			s.Expiry = r.Int64N(1 << 40)
			fallthrough
		default:
			s.Value = fmt.Appendf(nil, "v%d", r.IntN(1000))
		}
		o = dvv.Update(o, nil, s)
	}
	return crdt.FromDVV(o)
}

// allLevels returns every level of t, root first.
func allLevels(t testing.TB, tr *antientropy.Tree) [][]antientropy.Hash {
	t.Helper()
	out := make([][]antientropy.Hash, tr.Depth()+1)
	for d := range out {
		l, err := tr.Level(d, 0, 1<<d)
		if err != nil {
			t.Fatal(err)
		}
		out[d] = l
	}
	return out
}

// sameLevels fails t unless a and b have equal hashes at every node.
func sameLevels(t testing.TB, a, b *antientropy.Tree) {
	t.Helper()
	la, lb := allLevels(t, a), allLevels(t, b)
	for d := range la {
		for i := range la[d] {
			if la[d][i] != lb[d][i] {
				t.Fatalf("depth %d node %d: %v != %v", d, i, la[d][i], lb[d][i])
			}
		}
	}
}

// countingSource counts the calls and hashes a Diff asks for.
type countingSource struct {
	src    antientropy.LevelSource
	calls  int
	hashes int
}

func (c *countingSource) Level(depth, from, to int) ([]antientropy.Hash, error) {
	c.calls++
	h, err := c.src.Level(depth, from, to)
	c.hashes += len(h)
	return h, err
}
