package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring"
)

// mkState builds a ring.State by hand through its encoding, so each test
// can work out preference lists and moves on paper. members are IDs, a
// trailing "-" marks a leaving member; owners lists each partition's owner;
// moving maps a partition to its old set.
func mkState(t testing.TB, version uint64, replicas int, members []string, owners []string, moving map[int][]string) *ring.State {
	t.Helper()
	type wm struct {
		ID         string `json:"id"`
		Addr       string `json:"addr"`
		GossipAddr string `json:"gossip_addr"`
		Weight     int    `json:"weight"`
		Status     string `json:"status"`
	}
	type wp struct {
		P   int     `json:"p"`
		Old []int32 `json:"old"`
	}
	var ms []wm
	index := map[string]int32{}
	for _, m := range members {
		id, leaving := strings.CutSuffix(m, "-")
		st := "joined"
		if leaving {
			st = "leaving"
		}
		ms = append(ms, wm{ID: id, Addr: id + ":1", GossipAddr: id + ":2", Weight: 1, Status: st})
	}
	slices.SortFunc(ms, func(a, b wm) int { return strings.Compare(a.ID, b.ID) })
	for i, m := range ms {
		index[m.ID] = int32(i)
	}
	var ow []int32
	for _, o := range owners {
		ow = append(ow, index[o])
	}
	var pend []wp
	for p := range len(owners) {
		old, ok := moving[p]
		if !ok {
			continue
		}
		var is []int32
		for _, id := range old {
			is = append(is, index[id])
		}
		pend = append(pend, wp{P: p, Old: is})
	}
	b, err := json.Marshal(map[string]any{"format": 1, "version": version, "replicas": replicas, "members": ms, "owners": ow, "pending": pend})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ring.Decode(b)
	if err != nil {
		t.Fatalf("mkState: %v", err)
	}
	return st
}

// fourNodes is the ring most tests use, worked by hand. N = 2, Q = 4,
// owners a b c d, so the preference lists (owner of p, then of p+1) are
//
//	p0 [a b]   p1 [b c]   p2 [c d]   p3 [d a]
//
// and three partitions move (old set → incoming = top N minus old set):
//
//	p0 old [c d] → incoming [a b]   sender c, or d if c is down
//	p1 old [b a] → incoming [c]     sender b, or a if b is down
//	p3 old [a b] → incoming [d]     sender a, or b if a is down
//
// p2 does not move.
func fourNodes(t testing.TB) *ring.State {
	return mkState(t, 7, 2, []string{"a", "b", "c", "d"}, []string{"a", "b", "c", "d"},
		map[int][]string{0: {"c", "d"}, 1: {"b", "a"}, 3: {"a", "b"}})
}

// aliveExcept returns a liveness that reports ids down.
func aliveExcept(ids ...string) func(ring.NodeID) bool {
	return func(id ring.NodeID) bool { return !slices.Contains(ids, string(id)) }
}

func tasksString(ts []Task) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.String())
	}
	return strings.Join(s, " ")
}

func TestSender(t *testing.T) {
	st := fourNodes(t)
	for _, c := range []struct {
		p    int
		down []string
		want ring.NodeID
	}{
		{0, nil, "c"},               // first of the old set [c d]
		{0, []string{"c"}, "d"},     // the next alive one
		{0, []string{"c", "d"}, ""}, // nobody has the data up
		{1, nil, "b"},
		{1, []string{"b"}, "a"},
		{2, nil, ""},            // not moving
		{3, []string{"d"}, "a"}, // the receiver's liveness does not matter
	} {
		if got := Sender(st, c.p, aliveExcept(c.down...)); got != c.want {
			t.Errorf("Sender(p%d, down %v) = %q, want %q", c.p, c.down, got, c.want)
		}
	}
}

func TestTasks(t *testing.T) {
	st := fourNodes(t)
	for _, c := range []struct {
		self ring.NodeID
		down []string
		want string
	}{
		{"a", nil, "3>d"},
		{"b", nil, "1>c"},
		{"c", nil, "0>a 0>b"},
		{"d", nil, ""},
		{"d", []string{"c"}, "0>a 0>b"}, // d takes over p0 from c
		{"b", []string{"a"}, "1>c 3>d"}, // and b p3 from a
		{"a", []string{"b"}, "1>c 3>d"},
	} {
		if got := tasksString(Tasks(st, c.self, aliveExcept(c.down...))); got != c.want {
			t.Errorf("Tasks(%s, down %v) = %q, want %q", c.self, c.down, got, c.want)
		}
	}
}

func TestSendAndIsDone(t *testing.T) {
	st := fourNodes(t)
	move0 := MoveKey(st, 0)
	if move0 != "c d " {
		t.Fatalf("MoveKey(p0) = %q", move0)
	}
	if MoveKey(st, 2) != "" {
		t.Fatalf("MoveKey of a partition not moving = %q", MoveKey(st, 2))
	}
	for _, c := range []struct {
		name string
		prog map[Task]Progress
		down []string
		want string
	}{
		{"nothing done", nil, nil, "0>a 0>b"},
		{"one done", map[Task]Progress{{0, "a"}: {Move: move0, Done: true}}, nil, "0>b"},
		{"half sent is not done", map[Task]Progress{{0, "a"}: {Move: move0, Cursor: 9}}, nil, "0>a 0>b"},
		{"receiver down is skipped", nil, []string{"b"}, "0>a"},
		{"done for an earlier move does not count", map[Task]Progress{{0, "a"}: {Move: "d c ", Done: true}}, nil, "0>a 0>b"},
		{"all done", map[Task]Progress{{0, "a"}: {Move: move0, Done: true}, {0, "b"}: {Move: move0, Done: true}}, nil, ""},
	} {
		if got := tasksString(Send(st, "c", aliveExcept(c.down...), c.prog)); got != c.want {
			t.Errorf("%s: Send = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestStill(t *testing.T) {
	st := fourNodes(t)
	all := aliveExcept()
	for _, c := range []struct {
		st   *ring.State
		self ring.NodeID
		task Task
		down []string
		want bool
	}{
		{st, "c", Task{0, "a"}, nil, true},
		{st, "c", Task{0, "c"}, nil, false},          // c is not incoming
		{st, "d", Task{0, "a"}, nil, false},          // c sends p0
		{st, "d", Task{0, "a"}, []string{"c"}, true}, // unless c is down
		{st, "c", Task{2, "a"}, nil, false},          // p2 does not move
		{nil, "c", Task{0, "a"}, nil, false},
	} {
		alive := all
		if c.down != nil {
			alive = aliveExcept(c.down...)
		}
		if got := Still(c.st, c.self, alive, c.task); got != c.want {
			t.Errorf("Still(%s, %v, down %v) = %v", c.self, c.task, c.down, got)
		}
	}
}

func TestCompleted(t *testing.T) {
	st := fourNodes(t)
	m0, m3 := MoveKey(st, 0), MoveKey(st, 3)
	done := func(move string) Progress { return Progress{Move: move, Done: true} }
	for _, c := range []struct {
		name string
		self ring.NodeID
		down []string
		prog map[Task]Progress
		want string
	}{
		{"nothing done", "c", nil, nil, ""},
		{"one receiver of two", "c", nil, map[Task]Progress{{0, "a"}: done(m0)}, ""},
		{"both receivers", "c", nil, map[Task]Progress{{0, "a"}: done(m0), {0, "b"}: done(m0)}, "0>[a b]"},
		{"an earlier move", "c", nil, map[Task]Progress{{0, "a"}: done(m0), {0, "b"}: done("x ")}, ""},
		{"not the sender", "d", nil, map[Task]Progress{{0, "a"}: done(m0), {0, "b"}: done(m0)}, ""},
		{"the sender after a failover", "d", []string{"c"}, map[Task]Progress{{0, "a"}: done(m0), {0, "b"}: done(m0)}, "0>[a b]"},
		{"two partitions", "b", []string{"a"}, map[Task]Progress{{1, "c"}: done(MoveKey(st, 1)), {3, "d"}: done(m3)}, "1>[c] 3>[d]"},
	} {
		var got []string
		for _, h := range Completed(st, c.self, aliveExcept(c.down...), c.prog) {
			got = append(got, fmt.Sprintf("%d>%v", h.Partition, h.To))
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("%s: Completed = %q, want %q", c.name, s, c.want)
		}
	}
	// What Completed returns, ring.State.Complete accepts.
	next, k, err := st.Complete(Completed(st, "c", aliveExcept(), map[Task]Progress{{0, "a"}: done(m0), {0, "b"}: done(m0)}))
	if err != nil || k != 1 {
		t.Fatalf("Complete: %d, %v", k, err)
	}
	if _, moving := next.Moving(0); moving || next.Version() != st.Version()+1 {
		t.Fatalf("p0 still moving after Complete, version %d", next.Version())
	}
}

func TestPrune(t *testing.T) {
	st := fourNodes(t)
	now := time.UnixMilli(1_000_000)
	keep := time.Minute
	prog := map[Task]Progress{
		{0, "a"}: {Move: MoveKey(st, 0), Cursor: 5},                                          // current: kept
		{0, "b"}: {Move: "d c ", Done: true},                                                 // an earlier move: pruned
		{0, "d"}: {Move: MoveKey(st, 0)},                                                     // d is not incoming: pruned
		{2, "c"}: {Move: "x y "},                                                             // p2 stopped moving, unfinished: pruned
		{2, "d"}: {Move: "x y ", Done: true, DoneAt: now.Add(-30 * time.Second).UnixMilli()}, // finished 30 s ago: kept
		{2, "a"}: {Move: "x y ", Done: true, DoneAt: now.Add(-61 * time.Second).UnixMilli()}, // finished 61 s ago: pruned
	}
	if got := tasksString(Prune(st, prog, now, keep)); got != "0>b 0>d 2>a 2>c" {
		t.Fatalf("Prune = %q", got)
	}
}

func TestDrops(t *testing.T) {
	st := fourNodes(t)
	// A node holds p if it is in p's top N or, while p moves, its old set.
	for self, want := range map[ring.NodeID][]int{
		"a": {2}, // p2 [c d], not moving
		"b": {2}, // p3's old set [a b] keeps b
		"c": {3}, // p3 [d a], old [a b]
		"d": {1}, // p1 [b c], old [b a]
		"e": {0, 1, 2, 3},
	} {
		if got := Drops(st, self); !slices.Equal(got, want) {
			t.Errorf("Drops(%s) = %v, want %v", self, got, want)
		}
	}
}

func TestDropDue(t *testing.T) {
	st := fourNodes(t) // version 7
	t0 := time.Unix(100, 0)
	for _, c := range []struct {
		last uint64
		at   time.Time
		now  time.Time
		want bool
	}{
		{0, time.Time{}, t0, true},               // never ran
		{6, t0, t0.Add(time.Second), true},       // a new ring version
		{7, t0, t0.Add(29 * time.Second), false}, // same version, too soon
		{7, t0, t0.Add(30 * time.Second), true},  // same version, DropEvery later
	} {
		if got := DropDue(st, c.last, c.at, c.now, 30*time.Second); got != c.want {
			t.Errorf("DropDue(last %d, %v later) = %v", c.last, c.now.Sub(c.at), got)
		}
	}
}

func TestLeave(t *testing.T) {
	joined := fourNodes(t)
	// c is leaving and still in p1's old set: N = 2, owners a b a b, so
	// p1 [b a] with old set [c b] → incoming [a].
	involved := mkState(t, 9, 2, []string{"a", "b", "c-"}, []string{"a", "b", "a", "b"}, map[int][]string{1: {"c", "b"}})
	free := mkState(t, 10, 2, []string{"a", "b", "c-"}, []string{"a", "b", "a", "b"}, nil)
	gone := mkState(t, 11, 2, []string{"a", "b"}, []string{"a", "b", "a", "b"}, nil)
	for _, c := range []struct {
		name    string
		st      *ring.State
		leaving bool
		step    LeaveStep
		status  string
	}{
		{"not asked", joined, false, LeaveNone, "no"},
		{"asked, still joined", joined, true, LeaveMark, "requested"},
		{"leaving, partitions still moving", involved, true, LeaveNone, "leaving"},
		{"leaving, nothing left to hand off", free, true, LeaveRemove, "leaving"},
		{"removed", gone, true, LeaveLeft, "left"},
	} {
		self := ring.NodeID("c")
		if got := NextLeave(c.st, self, c.leaving); got != c.step {
			t.Errorf("%s: NextLeave = %d, want %d", c.name, got, c.step)
		}
		if got := LeaveStatus(c.st, self, c.leaving); got != c.status {
			t.Errorf("%s: LeaveStatus = %q, want %q", c.name, got, c.status)
		}
	}
	// The steps are ones the ring accepts.
	if _, _, err := joined.Leave("c"); err != nil {
		t.Fatal(err)
	}
	if _, err := free.Remove("c"); err != nil {
		t.Fatal(err)
	}
}

func TestConfig(t *testing.T) {
	d := DefaultConfig()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	var z Config
	z.EnsureDefaults()
	d.Rate = 0 // Rate 0 means unthrottled: EnsureDefaults leaves it
	if z != d {
		t.Fatalf("EnsureDefaults of the zero Config = %+v, want %+v", z, d)
	}
	for _, bad := range []Config{{Rate: -1}, {Batch: -1}, {Batch: MaxBatch + 1}, {Tick: -1}, {CompleteEvery: -1},
		{DropEvery: -1}, {KeepDone: -1}, {RateWindow: -1}, {Timeout: -1}} {
		if err := bad.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrConfig", bad, err)
		}
	}
}
