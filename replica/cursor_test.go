package replica

import (
	"fmt"
	"testing"

	"github.com/dynakv/dynakv/peer"
)

// TestCursorOfMatchesStoreOrder: peer.CursorOf, which the coordinator and
// anti-entropy use without the store, computes the cursor the store gives
// a key from its data key, for keys of every shape.
func TestCursorOfMatchesStoreOrder(t *testing.T) {
	keys := [][]byte{{}, []byte("a"), []byte("{user1000}.following"), []byte("\x00\xff")}
	for i := range 2000 {
		keys = append(keys, fmt.Appendf(nil, "key:%d", i))
	}
	for _, k := range keys {
		if got, want := peer.CursorOf(k), cursorOf(dataKey(k)); got != want {
			t.Fatalf("CursorOf(%q) = %#x, the store's is %#x", k, got, want)
		}
		if c := peer.CursorOf(k); cursorOf(cursorKey(c)) != c {
			t.Fatalf("cursor %#x of %q does not round-trip through cursorKey", c, k)
		}
	}
}
