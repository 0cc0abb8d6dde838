package node

import (
	"net"
	"testing"
)

// TestStartFailureReturnsError: a node that cannot start (its address is
// taken) returns the error and releases what it acquired; it does not
// panic in its own cleanup.
func TestStartFailureReturnsError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Listen = "n1", t.TempDir(), ln.Addr().String()
	n, err := Start(cfg)
	if err == nil || n != nil {
		t.Fatalf("Start on a taken address = %v, %v; want an error", n, err)
	}
}
