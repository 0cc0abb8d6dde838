package resp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/conformance"
	"github.com/dynakv/dynakv/ring"
)

// dbScript is the databases' part of the conformance script: SELECT,
// per-database DBSIZE/KEYS/SCAN, MOVE of each type with its TTL, the
// refusals, FLUSHDB and FLUSHALL with their options.
const dbScript = `
FLUSHALL
SET a 1
SET b 2
SADD s x y
HSET h f v
EXPIRE b 100
SELECT 1
DBSIZE
GET a
SET a one
~ KEYS *
~scan SCAN 0 COUNT 100
DBSIZE
SELECT 0
GET a
DBSIZE
~ KEYS *
MOVE a 1
MOVE b 1
MOVE b 1
MOVE s 1
MOVE h 1
MOVE nokey 1
MOVE a 0
MOVE a 16
MOVE a x
MOVE a -1
MOVE a
MOVE a 1 2
EXISTS b s h
SELECT 1
GET b
TTL b
~ SMEMBERS s
% HGETALL h
GET a
DBSIZE
SELECT 0
GET a
SWAPDB x 1
SWAPDB 0 x
SWAPDB 0 16
SWAPDB -1 0
SWAPDB 0
FLUSHDB BOGUS
FLUSHDB ASYNC x
FLUSHDB SYNC
DBSIZE
GET a
SELECT 1
DBSIZE
SET c 3
FLUSHALL x
FLUSHALL ASYNC
DBSIZE
SELECT 0
DBSIZE
SET after 1
GET after
FLUSHALL
FLUSHDB
SELECT 15
SELECT 16
SELECT -1
SELECT 1.5
`

// TestConformanceDatabases compares the database commands byte for byte
// with a real Redis 7, in RESP2 and RESP3.
func TestConformanceDatabases(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServerAt(t, time.Now().UnixMilli())
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
			n := conformance.Compare(t, ref, dut, dbScript, proto, nil)
			t.Logf("RESP%d: %d commands compared", proto, n)
		})
	}
}

// TestDatabaseReplies checks what differs from Redis on purpose: SWAPDB
// is refused with a reason, CONFIG GET databases is 16, and INFO keyspace
// has one line per non-empty database (avg_ttl is not tracked: 0).
func TestDatabaseReplies(t *testing.T) {
	ts := startServerAt(t, time.Now().UnixMilli())
	c := conformance.Dial(t, ts.addr)
	if got := c.Do(t, "SWAPDB", "0", "1"); !strings.HasPrefix(got, "-ERR SWAPDB is not supported by dynakv: ") {
		t.Errorf("SWAPDB 0 1: %q", got)
	}
	if got := c.Do(t, "CONFIG", "GET", "databases"); got != "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n" {
		t.Errorf("CONFIG GET databases: %q", got)
	}
	for _, cmd := range [][]string{
		{"SET", "a", "1"}, {"SET", "b", "2", "EX", "100"},
		{"SELECT", "3"}, {"SET", "c", "3"},
		{"SELECT", "5"}, {"SET", "d", "4"}, {"FLUSHDB"},
	} {
		c.Do(t, cmd...)
	}
	if got := c.Do(t, "CLIENT", "INFO"); !strings.Contains(got, " db=5 ") {
		t.Errorf("CLIENT INFO after SELECT 5: %q", got)
	}
	info := c.Do(t, "INFO", "keyspace")
	want := "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n"
	if !strings.Contains(info, want) || strings.Contains(info, "db5") {
		t.Errorf("INFO keyspace: %q, want %q", info, want)
	}
}

// TestForwardKeepsDatabase: a write of a connection in database 2 whose
// key another node coordinates is forwarded with its database (DKV.DB),
// so it lands in database 2 there, in both protocols; MOVE is forwarded
// the same way and moves the key between databases on the coordinator.
func TestForwardKeepsDatabase(t *testing.T) {
	n1, n2, _ := startPair(t)
	_, theirs := keysOf(2) // n2's keys
	for _, proto := range []int{2, 3} {
		c := n1.client(t, proto, "")
		if err := c.Do(bg, "SELECT", "2").Err(); err != nil {
			t.Fatal(err)
		}
		k := theirs[0]
		v := fmt.Sprintf("v%d", proto)
		if err := c.Set(bg, k, v, 0).Err(); err != nil {
			t.Fatalf("RESP%d: forwarded SET in db 2: %v", proto, err)
		}
		if got := n2.value(string(ring.StoredKey(2, 0, []byte(k)))); got != v {
			t.Errorf("RESP%d: n2's db 2 holds %q, want %q", proto, got, v)
		}
		if got := n2.value(k); got != "" {
			t.Errorf("RESP%d: the write landed in n2's db 0: %q", proto, got)
		}
		if n, err := c.Do(bg, "MOVE", k, "3").Int(); n != 1 || err != nil {
			t.Fatalf("RESP%d: forwarded MOVE: %d %v", proto, n, err)
		}
		if n2.value(string(ring.StoredKey(3, 0, []byte(k)))) != v || n2.value(string(ring.StoredKey(2, 0, []byte(k)))) != "" {
			t.Errorf("RESP%d: MOVE did not move %s from db 2 to db 3 on n2", proto, k)
		}
		c2 := n2.client(t, proto, "")
		if err := c2.Do(bg, "SELECT", "3").Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c2.GetDel(bg, k).Result(); got != v || err != nil {
			t.Errorf("RESP%d: GETDEL in db 3 on n2: %q %v", proto, got, err)
		}
	}
}
