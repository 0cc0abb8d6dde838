package membertest

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestNetwork(t *testing.T) {
	nw := NewNetwork()
	a := nw.MustListen("127.0.0.1:1")
	b := nw.MustListen("127.0.0.1:0")
	if _, err := nw.Listen("127.0.0.1:1"); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("Listen on a taken address = %v", err)
	}

	// Packets flow and carry the sender's address.
	if _, err := a.WriteTo([]byte("hi"), b.Addr()); err != nil {
		t.Fatal(err)
	}
	p := <-b.PacketCh()
	if string(p.Buf) != "hi" || p.From.String() != a.Addr() {
		t.Fatalf("got %q from %v", p.Buf, p.From)
	}

	// Streams connect.
	go func() {
		c := <-b.StreamCh()
		_, _ = c.Write([]byte("ok"))
		_ = c.Close()
	}()
	c, err := a.DialAddressTimeout(memberlist.Address{Addr: b.Addr()}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "ok" || c.RemoteAddr().String() != b.Addr() {
		t.Fatalf("read %q, %v from %v", buf, err, c.RemoteAddr())
	}

	// A cut drops packets and refuses streams, until healed.
	nw.Cut(a.Addr(), b.Addr())
	_, _ = a.WriteTo([]byte("lost"), b.Addr())
	if _, err := a.DialTimeout(b.Addr(), time.Second); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("dial across a cut = %v", err)
	}
	nw.Heal(a.Addr(), b.Addr())
	_, _ = a.WriteTo([]byte("back"), b.Addr())
	if p := <-b.PacketCh(); string(p.Buf) != "back" {
		t.Fatalf("after heal got %q, want the packet sent during the cut to be lost", p.Buf)
	}

	// A shut-down transport is unreachable and frees its address.
	_ = b.Shutdown()
	if _, err := a.WriteTo([]byte("x"), b.Addr()); err != nil {
		t.Fatalf("write to a down node should be silently dropped, got %v", err)
	}
	if _, err := a.DialTimeout(b.Addr(), time.Second); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("dial to a down node = %v", err)
	}
	if _, err := nw.Listen(b.Addr()); err != nil {
		t.Fatalf("re-listen after shutdown: %v", err)
	}
}
