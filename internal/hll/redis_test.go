package hll

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/testseed"
)

// startRedis runs a redis-server on a free port of 16500–16599 for the
// test, or skips it when none is installed.
func startRedis(t *testing.T) net.Conn {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil || testing.Short() {
		t.Skip("redis-server not on PATH (or -short): HLL bytes not compared with Redis")
	}
	for port := 16500; port < 16600; port++ {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Skipf("redis-server: %v", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				t.Cleanup(func() { c.Close() })
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("redis-server did not start: %v", err)
			}
		}
	}
	t.Skip("no free port")
	return nil
}

// do sends one command and returns an integer's or bulk string's payload.
func do(t *testing.T, c net.Conn, r *bufio.Reader, args ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	line = line[:len(line)-2]
	switch line[0] {
	case ':', '+':
		return line[1:]
	case '$':
		n, _ := strconv.Atoi(string(line[1:]))
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
	t.Fatalf("reply %q", line)
	return nil
}

// TestBytesMatchRedis runs random PFADD, PFCOUNT and PFMERGE sequences on
// Redis and on this package and compares the HLL bytes (GET) after each
// step and every count: sparse edits, promotion at 3000 bytes and at a
// register over 32, the cache and its stale bit.
func TestBytesMatchRedis(t *testing.T) {
	c := startRedis(t)
	r := bufio.NewReader(c)
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	b := func(s string) []byte { return []byte(s) }
	for round := 0; round < 6; round++ {
		do(t, c, r, b("FLUSHALL"))
		keys := [][]byte{b("{h}a"), b("{h}b")}
		ours := map[string][]byte{}
		steps := 300 + round*200
		for step := 0; step < steps; step++ {
			k := keys[rng.IntN(2)]
			switch op := rng.IntN(20); {
			case op < 16:
				n := 1 + rng.IntN(1+round*10)
				args := [][]byte{b("PFADD"), k}
				var elems [][]byte
				for i := 0; i < n; i++ {
					e := []byte(strconv.Itoa(rng.IntN(1 << (8 + 2*round))))
					if rng.IntN(50) == 0 {
						e = []byte(fmt.Sprint(rng.Uint64())) // a long zero run now and then
					}
					elems = append(elems, e)
				}
				want := do(t, c, r, append(args, elems...)...)
				cur, ok := ours[string(k)]
				created := !ok
				if !ok {
					cur = New()
				}
				next, ch, err := Add(cur, elems)
				if err != nil {
					t.Fatal(err)
				}
				got := "0"
				if ch || created {
					got = "1"
				}
				ours[string(k)] = next
				if got != string(want) {
					t.Fatalf("seed %d step %d: PFADD replied %s, Redis %s", seed, step, got, want)
				}
			case op < 18:
				want := do(t, c, r, b("PFCOUNT"), k)
				cur, ok := ours[string(k)]
				var n uint64
				if ok {
					var fresh []byte
					var err error
					n, fresh, err = Count(cur)
					if err != nil {
						t.Fatal(err)
					}
					if fresh != nil {
						ours[string(k)] = fresh
					}
				}
				if strconv.FormatUint(n, 10) != string(want) {
					t.Fatalf("seed %d step %d: PFCOUNT %d, Redis %s", seed, step, n, want)
				}
			case op < 19:
				want := do(t, c, r, b("PFCOUNT"), keys[0], keys[1])
				var regs Regs
				for _, kk := range keys {
					if v, ok := ours[string(kk)]; ok {
						MaxInto(&regs, v)
					}
				}
				if n := CountRegs(&regs); strconv.FormatUint(n, 10) != string(want) {
					t.Fatalf("seed %d step %d: PFCOUNT union %d, Redis %s", seed, step, n, want)
				}
			default:
				do(t, c, r, b("PFMERGE"), k, keys[0], keys[1])
				var regs Regs
				dense := false
				for _, kk := range []string{string(k), string(keys[0]), string(keys[1])} {
					if v, ok := ours[kk]; ok {
						MaxInto(&regs, v)
						dense = dense || IsDense(v)
					}
				}
				dst, ok := ours[string(k)]
				if !ok {
					dst = New()
				}
				out, err := Store(dst, &regs, dense)
				if err != nil {
					t.Fatal(err)
				}
				ours[string(k)] = out
			}
			want := do(t, c, r, b("GET"), k)
			if got := ours[string(k)]; !bytes.Equal(got, want) {
				t.Fatalf("seed %d round %d step %d: bytes differ (ours %d bytes, dense %v; Redis %d bytes)\n ours %x\nredis %x", seed, round, step, len(got), len(got) > 0 && IsDense(got), len(want), got[:min(len(got), 80)], want[:min(len(want), 80)])
			}
		}
		t.Logf("round %d: %d steps, final sizes %d and %d bytes", round, steps, len(ours["{h}a"]), len(ours["{h}b"]))
	}
}
