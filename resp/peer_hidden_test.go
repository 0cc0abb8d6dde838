package resp

import (
	"regexp"
	"strings"
	"testing"
)

// infoField reads field name's value from an INFO reply.
func infoField(t *testing.T, info, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:(.*)\r$`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("INFO has no %s: %q", name, info)
	}
	return m[1]
}

// TestPeerConnectionsAreNotClients: a connection that presented the
// cluster secret is not a client: CLIENT LIST (and TYPE normal) leaves it
// out, CLIENT KILL cannot find it (by SKIPME, by ID: 0, by address: "No
// such client"), connected_clients does not count it, nor do
// total_commands_processed, total_connections_received and the
// commandstats; its commands and bytes are counted in dynakv_peer_*, and
// it does not take a maxclients slot.
func TestPeerConnectionsAreNotClients(t *testing.T) {
	ts := startServer(t, Config{ClusterSecret: testSecret, MaxClients: 2})
	cl := dialRaw(t, ts.addr)
	if got := cl.do("CLIENT", "ID"); got != ":1\r\n" {
		t.Fatalf("CLIENT ID: %q", got)
	}
	peer := dialRaw(t, ts.addr)
	if got := peer.do("DKV.AUTH", testSecret); got != "+OK\r\n" {
		t.Fatalf("DKV.AUTH: %q", got)
	}
	peerAddr := peer.conn.LocalAddr().String()
	for range 5 {
		if got := peer.do("SET", "k", "v"); got != "+OK\r\n" {
			t.Fatalf("SET on the peer connection: %q", got)
		}
	}
	// The peer left its slot: a second client fits under maxclients 2.
	cl2 := dialRaw(t, ts.addr)
	if got := cl2.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("second client with maxclients 2 and a peer: %q", got)
	}
	for _, args := range [][]string{{"CLIENT", "LIST"}, {"CLIENT", "LIST", "TYPE", "normal"}, {"CLIENT", "LIST", "ID", "1", "2", "3"}} {
		got := cl.do(args...)
		if strings.Contains(got, peerAddr) || strings.Contains(got, "id=2 ") || strings.Count(got, "lib-ver=\n") != 2 {
			t.Errorf("%v lists the peer connection or misses a client: %q", args, got)
		}
	}
	info := cl.do("INFO", "clients")
	if v := infoField(t, info, "connected_clients"); v != "2" {
		t.Errorf("connected_clients: %s, want 2", v)
	}
	if v := infoField(t, info, "dynakv_peer_connections"); v != "1" {
		t.Errorf("dynakv_peer_connections: %s, want 1", v)
	}
	stats := cl.do("INFO", "stats")
	// The client's commands: CLIENT ID, 3× CLIENT LIST, 2× INFO; cl2's PING.
	if v := infoField(t, stats, "total_commands_processed"); v != "7" {
		t.Errorf("total_commands_processed: %s, want 7 (the clients' commands only)", v)
	}
	if v := infoField(t, stats, "total_connections_received"); v != "2" {
		t.Errorf("total_connections_received: %s, want 2 (the clients')", v)
	}
	if v := infoField(t, stats, "dynakv_peer_commands_processed"); v != "6" {
		t.Errorf("dynakv_peer_commands_processed: %s, want 6 (DKV.AUTH and 5 SETs)", v)
	}
	if v := infoField(t, stats, "dynakv_peer_net_input_bytes"); v == "0" {
		t.Errorf("dynakv_peer_net_input_bytes: 0 after the peer's SETs")
	}
	if got := cl.do("INFO", "commandstats"); strings.Contains(got, "cmdstat_set:") {
		t.Errorf("commandstats counts the peer's SETs: %q", got)
	}
	if got := cl.do("CLIENT", "KILL", "ID", "2"); got != ":0\r\n" {
		t.Errorf("CLIENT KILL ID <peer>: %q, want :0 (as for an unknown id)", got)
	}
	if got := cl.do("CLIENT", "KILL", peerAddr); got != "-ERR No such client\r\n" {
		t.Errorf("CLIENT KILL <peer addr>: %q", got)
	}
	if got := cl.do("CLIENT", "KILL", "ADDR", peerAddr); got != ":0\r\n" {
		t.Errorf("CLIENT KILL ADDR <peer addr>: %q", got)
	}
	if got := cl.do("CLIENT", "KILL", "SKIPME", "yes"); got != ":1\r\n" {
		t.Errorf("CLIENT KILL SKIPME yes: %q, want :1 (cl2 only)", got)
	}
	cl2.expectEOF()
	if got := peer.do("GET", "k"); got != "$1\r\nv\r\n" {
		t.Errorf("the peer connection after CLIENT KILL SKIPME yes: %q", got)
	}
}
