package tests

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/redis/go-redis/v9"
)

// The dynakv executables, built into binDir (made by TestMain) by the
// first test that needs each: a run of in-process tests only (go test -run
// TestDynamo ./tests) builds nothing.
var (
	binDir              string
	binOnce, staticOnce sync.Once
	binPath, staticPath string
	binErr, staticErr   error
)

// dynakvBinary returns the path of the dynakv executable the process tests
// run, building it on the first call with go's default settings, so that
// it reuses the build cache of `go build ./...` and of the test binaries.
func dynakvBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = buildBinary(binDir, "dynakv", false) })
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// staticBinary returns the path of a statically linked dynakv executable
// (CGO_ENABLED=0), for the FROM scratch image of the Docker tests,
// building it on the first call.
func staticBinary(t testing.TB) string {
	t.Helper()
	staticOnce.Do(func() { staticPath, staticErr = buildBinary(binDir, "dynakv-static", true) })
	if staticErr != nil {
		t.Fatal(staticErr)
	}
	return staticPath
}

// buildBinary compiles ./cmd/dynakv into dir/name, statically linked if
// static.
func buildBinary(dir, name string, static bool) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "../cmd/dynakv")
	if static {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return out, nil
}

// Proc is one running dynakv process.
type Proc struct {
	t    testing.TB
	ID   string
	Addr string
	Data string
	args []string
	cmd  *exec.Cmd
	log  *syncbuf.Buffer
	done chan struct{}

	// ClusterAddr is the cluster-client address (--cluster-listen): the
	// address CLUSTER SLOTS, SHARDS and NODES show for the node.
	ClusterAddr string
}

// Ports freeAddr hands out: below the ephemeral range (32768 up), from
// which the kernel picks the local port of every outgoing connection (a
// client's, a peer lane's, Docker's): a port picked there was sometimes
// taken by such a connection between freeAddr's check and the process's
// bind ("address already in use" at start-up). Below bench/'s ports
// (27379 up).
const freePortLo, freePortHi = 20000, 27000

// freePortNext is where freeAddr's next search starts, an offset in
// [freePortLo, freePortHi): consecutive calls (a process's three
// addresses) never get the same port, and test processes started
// together (each package of ./tests/...) start from different places.
var freePortNext = sync.OnceValue(func() *atomic.Uint64 {
	var next atomic.Uint64
	next.Store(uint64(os.Getpid()) * 7919)
	return &next
})

// freeAddr returns a 127.0.0.1 address whose port (below 32768: see
// freePortLo) was free a moment ago for TCP and UDP (a gossip address
// takes both).
func freeAddr(t testing.TB) string {
	t.Helper()
	const n = freePortHi - freePortLo
	for range n {
		port := freePortLo + int(freePortNext().Add(1)%n)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err != nil {
			continue
		}
		pc.Close()
		return addr
	}
	t.Fatalf("no port free for TCP and UDP in %d-%d", freePortLo, freePortHi-1)
	return ""
}

// mainAddr maps each started process's cluster-client address to its
// main address (see mainOf).
var mainAddr sync.Map

// mainOf returns the main (plain client) address of the process whose
// cluster-client address is addr, as CLUSTER SLOTS shows it; addr itself
// if it is none's.
func mainOf(addr string) string {
	if a, ok := mainAddr.Load(addr); ok {
		return a.(string)
	}
	return addr
}

// StartServer starts `dynakv server` with the given ID and extra flags and
// waits until it answers. The process is killed at test cleanup.
func StartServer(t testing.TB, id string, extra ...string) *Proc {
	t.Helper()
	p := &Proc{t: t, ID: id, Addr: freeAddr(t), ClusterAddr: freeAddr(t), Data: filepath.Join(t.TempDir(), id)}
	mainAddr.Store(p.ClusterAddr, p.Addr)
	p.args = append([]string{"server", "--id", id, "--data", p.Data, "--gossip", freeAddr(t), "--cluster-listen", p.ClusterAddr}, extra...)
	p.start()
	t.Cleanup(func() { p.Kill() })
	return p
}

func (p *Proc) start() {
	p.t.Helper()
	p.cmd = exec.Command(dynakvBinary(p.t), append(p.args, "--listen", p.Addr)...)
	p.log = &syncbuf.Buffer{}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.ID, err)
	}
	p.done = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.done) }()
	eventually(p.t, p.ID+" listening", 15*time.Second, func() error {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited during start-up:\n%s", p.ID, p.log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, p.log.String())
		}
		return c.Close()
	})
}

// Kill sends SIGKILL and waits for the process to die.
func (p *Proc) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Proc) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			return fmt.Errorf("%s exited with %d:\n%s", p.ID, code, p.log.String())
		}
		return nil
	case <-time.After(20 * time.Second):
		p.Kill()
		return fmt.Errorf("%s did not stop within 20s", p.ID)
	}
}

// Restart starts the process again with the same ID, address and data.
func (p *Proc) Restart() { p.t.Helper(); p.start() }

// Alive reports whether the process is still running.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Log returns what the process wrote so far.
func (p *Proc) Log() string { return p.log.String() }

// Client returns a go-redis client of the process (RESP3 by default, as
// go-redis v9 negotiates), closed at cleanup.
func (p *Proc) Client(t testing.TB, mod ...func(*redis.Options)) *redis.Client {
	opt := &redis.Options{Addr: p.Addr, MaxRetries: -1}
	for _, m := range mod {
		m(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// stepTimeout bounds the requests of one step of a test (see ctxT).
const stepTimeout = 30 * time.Second

// ctxT returns a context for the requests of one step of a test, ending
// stepTimeout from now (and at cleanup). Make one per step, after the waits
// that precede it, never once per test: starting, joining and settling a
// cluster can take longer than stepTimeout on a loaded machine, and a
// context made before them would expire under the step's first request.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "dynakv-test-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}
