package osmem

import (
	"runtime"
	"testing"
)

// TestReturnReleasesHeap: after a 64 MiB allocation becomes garbage,
// Return gives it back: the heap memory the runtime still holds from the
// operating system (HeapSys - HeapReleased) is under 16 MiB.
func TestReturnReleasesHeap(t *testing.T) {
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = byte(i)
	}
	runtime.KeepAlive(b)
	b = nil
	Return()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if held := m.HeapSys - m.HeapReleased; held > 16<<20 {
		t.Fatalf("after Return the runtime holds %d MiB of heap from the OS", held>>20)
	}
}
