package resp

import (
	"strings"
	"testing"
)

const testSecret = "s3cret"

// echoPeer is an internal command as package peerserver registers them:
// DKV.ECHO x → x, for peers only.
var echoPeer = Command{Name: "dkv.echo", Arity: 2, Flags: FlagPeer | FlagFast, Handler: func(c *Conn, args [][]byte) { c.WriteBulk(args[1]) }}

// registerEchoPeer registers echoPeer before the server serves
// (Register refuses once it does: ErrServing).
func registerEchoPeer(s *Server) error { return s.Register(echoPeer, false) }

// TestPeerAuth: DKV.AUTH with the cluster secret turns a connection into
// a peer one, which may call FlagPeer commands and counts as
// authenticated; a wrong secret is refused and the connection closed; a
// plain client gets NOPERM (after NOAUTH when a password is required).
func TestPeerAuth(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		t.Run("requirepass="+pass, func(t *testing.T) {
			ts := startServer(t, Config{ClusterSecret: testSecret, RequirePass: pass}, registerEchoPeer)
			raw := dialRaw(t, ts.addr)
			if got := raw.do("DKV.AUTH", "guess"); got != "-WRONGPASS invalid cluster secret\r\n" {
				t.Errorf("DKV.AUTH wrong: %q", got)
			}
			raw.expectEOF()

			raw = dialRaw(t, ts.addr)
			if pass != "" {
				if got := raw.do("DKV.ECHO", "x"); got != "-"+msgNoAuth+"\r\n" {
					t.Errorf("DKV.ECHO before AUTH: %q", got)
				}
				raw.do("AUTH", pass)
			}
			if got := raw.do("DKV.ECHO", "x"); got != "-NOPERM this command is reserved for cluster peers\r\n" {
				t.Errorf("DKV.ECHO from a client: %q", got)
			}

			raw = dialRaw(t, ts.addr)
			if got := raw.do("DKV.AUTH", testSecret); got != "+OK\r\n" {
				t.Fatalf("DKV.AUTH: %q", got)
			}
			if got := raw.do("DKV.ECHO", "x"); got != "$1\r\nx\r\n" {
				t.Errorf("DKV.ECHO from a peer: %q", got)
			}
			if got := raw.do("SET", "a", "1"); got != "+OK\r\n" {
				t.Errorf("SET on a peer connection: %q", got)
			}
		})
	}
}

// TestPeerCommandsHidden: internal commands are not listed by COMMAND, and
// without a secret DKV.AUTH does not exist.
func TestPeerCommandsHidden(t *testing.T) {
	plain := startServer(t, Config{})
	ts := startServer(t, Config{ClusterSecret: testSecret}, registerEchoPeer)
	if len(ts.Commands()) != len(plain.Commands()) {
		t.Errorf("Commands: %d with the secret, %d without", len(ts.Commands()), len(plain.Commands()))
	}
	raw := dialRaw(t, ts.addr)
	if got, want := raw.do("COMMAND", "COUNT"), dialRaw(t, plain.addr).do("COMMAND", "COUNT"); got != want {
		t.Errorf("COMMAND COUNT = %q, want %q", got, want)
	}
	if got := raw.do("COMMAND", "INFO", "dkv.echo", "dkv.auth"); got != "*2\r\n$-1\r\n$-1\r\n" {
		t.Errorf("COMMAND INFO dkv.echo = %q", got)
	}
	if got := raw.do("COMMAND", "GETKEYS", "dkv.echo", "k"); got != "-ERR Invalid command specified\r\n" {
		t.Errorf("COMMAND GETKEYS dkv.echo = %q", got)
	}
	if got := raw.do("COMMAND", "LIST"); strings.Contains(got, "dkv") {
		t.Errorf("COMMAND LIST shows internal commands: %q", got)
	}
	raw = dialRaw(t, plain.addr)
	if got := raw.do("DKV.AUTH", "x"); !strings.HasPrefix(got, "-ERR unknown command 'DKV.AUTH'") {
		t.Errorf("DKV.AUTH without a secret: %q", got)
	}
}

// A one-node ring needs no secret: its writes are all local, and without
// DKV.AUTH nothing can forward to it.
func TestClusterWithoutSecret(t *testing.T) {
	ts := startServer(t, Config{Cluster: threeNodes()})
	raw := dialRaw(t, ts.addr)
	for _, tc := range [][2]string{
		{"SET k v", "+OK\r\n"},
		{"DEL k x", ":1\r\n"},
		{"CLUSTER MYID", "$2\r\nn1\r\n"},
		{"DKV.AUTH x", "-ERR unknown command 'DKV.AUTH', with args beginning with: 'x' \r\n"},
	} {
		if got := raw.do(strings.Fields(tc[0])...); got != tc[1] {
			t.Errorf("%s = %q, want %q", tc[0], got, tc[1])
		}
	}
}
