package membertest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrUnreachable is returned by dials to an address that has no live
// transport, or that is cut off from the dialer.
var ErrUnreachable = errors.New("membertest: connection refused")

// ErrAddrInUse is returned by Listen when a live transport holds the address.
var ErrAddrInUse = errors.New("membertest: address already in use")

// packetQueue is the depth of each transport's packet queue. memberlist
// drains it continuously; the bound only matters for a stuck receiver.
const packetQueue = 1024

// Network is an in-memory network of memberlist transports. The zero value
// is ready to use.
type Network struct {
	mu       sync.Mutex
	byAddr   map[string]*Transport
	cut      map[[2]string]bool // unordered pair (sorted) -> link is down
	nextPort int
}

// NewNetwork returns an empty network.
func NewNetwork() *Network { return &Network{} }

// Listen creates a transport at addr ("ip:port"). Port 0 picks a free port.
// It fails with ErrAddrInUse while another live transport holds addr.
func (n *Network) Listen(addr string) (*Transport, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("membertest: listen %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, fmt.Errorf("membertest: listen %q: host is not an IP", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("membertest: listen %q: bad port", addr)
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byAddr == nil {
		n.byAddr = make(map[string]*Transport)
	}
	if port == 0 {
		for {
			n.nextPort++
			port = 40000 + n.nextPort
			if _, taken := n.byAddr[net.JoinHostPort(ip.String(), strconv.Itoa(port))]; !taken {
				break
			}
		}
	}
	key := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	if _, taken := n.byAddr[key]; taken {
		return nil, fmt.Errorf("membertest: listen %q: %w", key, ErrAddrInUse)
	}
	t := &Transport{
		net:      n,
		ip:       ip,
		port:     port,
		addr:     key,
		packetCh: make(chan *memberlist.Packet, packetQueue),
		streamCh: make(chan net.Conn),
		done:     make(chan struct{}),
	}
	n.byAddr[key] = t
	return t, nil
}

// MustListen is Listen that panics on error, for tests.
func (n *Network) MustListen(addr string) *Transport {
	t, err := n.Listen(addr)
	if err != nil {
		panic(err)
	}
	return t
}

// Cut drops all traffic between the transports at addresses a and b, in both
// directions, until Heal is called. The addresses need not be live yet.
func (n *Network) Cut(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut == nil {
		n.cut = make(map[[2]string]bool)
	}
	n.cut[pair(a, b)] = true
}

// Heal restores traffic between a and b after Cut.
func (n *Network) Heal(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.cut, pair(a, b))
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// route returns the live transport at addr as seen from src, or nil.
func (n *Network) route(src, addr string) *Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut[pair(src, addr)] {
		return nil
	}
	return n.byAddr[addr]
}

func (n *Network) remove(t *Transport) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byAddr[t.addr] == t {
		delete(n.byAddr, t.addr)
	}
}

// Transport is one node's endpoint on a Network. It implements
// memberlist.NodeAwareTransport; give it to member.Config.Transport (or
// memberlist.Config.Transport).
type Transport struct {
	net      *Network
	ip       net.IP
	port     int
	addr     string
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn

	closeOnce sync.Once
	done      chan struct{}
}

var _ memberlist.NodeAwareTransport = (*Transport)(nil)

// Addr returns the transport's "ip:port" address.
func (t *Transport) Addr() string { return t.addr }

// FinalAdvertiseAddr implements memberlist.Transport: the transport's own
// address, whatever was asked.
func (t *Transport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.ip, t.port, nil
}

// WriteTo implements memberlist.Transport.
func (t *Transport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress implements memberlist.NodeAwareTransport. Like UDP, it
// never reports a lost packet.
func (t *Transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	if t.closed() {
		return now, fmt.Errorf("membertest: write from %s: transport shut down", t.addr)
	}
	dest := t.net.route(t.addr, a.Addr)
	if dest == nil {
		return now, nil // dropped
	}
	p := &memberlist.Packet{
		Buf:       append([]byte(nil), b...),
		From:      &net.UDPAddr{IP: t.ip, Port: t.port},
		Timestamp: now,
	}
	select {
	case dest.packetCh <- p:
	case <-dest.done:
	default: // queue full: dropped
	}
	return now, nil
}

// PacketCh implements memberlist.Transport.
func (t *Transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// DialTimeout implements memberlist.Transport.
func (t *Transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (t *Transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.closed() {
		return nil, fmt.Errorf("membertest: dial from %s: transport shut down", t.addr)
	}
	dest := t.net.route(t.addr, a.Addr)
	if dest == nil {
		return nil, fmt.Errorf("membertest: dial %s: %w", a.Addr, ErrUnreachable)
	}
	local := &net.TCPAddr{IP: t.ip, Port: t.port}
	remote := &net.TCPAddr{IP: dest.ip, Port: dest.port}
	ours, theirs := net.Pipe()
	var timer <-chan time.Time
	if timeout > 0 {
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		timer = tm.C
	}
	select {
	case dest.streamCh <- &conn{Conn: theirs, local: remote, remote: local}:
		return &conn{Conn: ours, local: local, remote: remote}, nil
	case <-dest.done:
	case <-t.done:
	case <-timer:
	}
	_ = ours.Close()
	_ = theirs.Close()
	return nil, fmt.Errorf("membertest: dial %s: %w", a.Addr, ErrUnreachable)
}

// StreamCh implements memberlist.Transport.
func (t *Transport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown implements memberlist.Transport: the address becomes free and
// traffic to it is dropped.
func (t *Transport) Shutdown() error {
	t.closeOnce.Do(func() {
		t.net.remove(t)
		close(t.done)
	})
	return nil
}

func (t *Transport) closed() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// conn is a net.Pipe end that reports TCP-like addresses.
type conn struct {
	net.Conn
	local, remote net.Addr
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }
