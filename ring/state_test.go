package ring

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// mustBuild makes a State from a table written as letters.
func mustBuild(t testing.TB, version uint64, n int, members []Member, table string) *State {
	t.Helper()
	s, err := build(version, n, members, letters(table))
	if err != nil {
		t.Fatalf("build(%q): %v", table, err)
	}
	return s
}

func ids(s string) []NodeID { return letters(s) }

func TestNew(t *testing.T) {
	s, err := New(Config{Partitions: DefaultPartitions, Replicas: 3}, equal("ABCD"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != 1 || s.Partitions() != 256 || s.Replicas() != 3 || s.Config() != (Config{Partitions: DefaultPartitions, Replicas: 3}) {
		t.Errorf("New: version %d, Q %d, N %d", s.Version(), s.Partitions(), s.Replicas())
	}
	for _, id := range ids("ABCD") {
		if ps := s.PartitionsOf(id); len(ps) != 64 {
			t.Errorf("%s owns %d partitions, want 64", id, len(ps))
		}
	}
	if got := str(s.Owners()[:8]); got != "ABCDABCD" {
		t.Errorf("first owners %s, want ABCDABCD", got)
	}

	for _, tc := range []struct {
		name    string
		cfg     Config
		members []Member
		want    error
	}{
		{"q=0", Config{0, 3}, equal("A"), ErrInvalidPartitions},
		{"q=100", Config{100, 3}, equal("A"), ErrInvalidPartitions},
		{"q=32768", Config{32768, 3}, equal("A"), ErrInvalidPartitions},
		{"n=0", Config{8, 0}, equal("A"), ErrInvalidReplicas},
		{"n=65", Config{8, 65}, equal("A"), ErrInvalidReplicas},
		{"no members", Config{8, 3}, nil, ErrNoMembers},
		{"duplicate", Config{8, 3}, equal("AA"), ErrDuplicateMember},
		{"weight", Config{8, 3}, []Member{{ID: "A", Weight: MaxWeight + 1}}, ErrInvalidMember},
		{"control char", Config{8, 3}, []Member{{ID: "A\n", Weight: 1}}, ErrInvalidMember},
	} {
		if _, err := New(tc.cfg, tc.members); !errors.Is(err, tc.want) {
			t.Errorf("%s: New error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestPreferenceList checks lists worked out by hand.
func TestPreferenceList(t *testing.T) {
	s := mustBuild(t, 1, 3, equal("ABCDE"), "AABACCDA")
	for _, tc := range []struct {
		p, n int
		want string
	}{
		{0, 3, "ABC"},  // skips A at 1 and 3
		{1, 3, "ABC"},  // A, B, (A), C
		{2, 2, "BA"},   //
		{4, 3, "CDA"},  // C, (C), D, A
		{6, 3, "DAB"},  // wraps: D, A, (A), B
		{7, 1, "A"},    //
		{7, 4, "ABCD"}, // every owner
		{7, 9, "ABCD"}, // fewer owners than asked; E owns nothing
		{-1, 2, "AB"},  // p is taken modulo Q
		{15, 2, "AB"},  //
		{3, 0, ""},     //
	} {
		if got := str(s.PreferenceList(tc.p, tc.n)); got != tc.want {
			t.Errorf("PreferenceList(%d, %d) = %s, want %s", tc.p, tc.n, got, tc.want)
		}
	}
	// Walk continues to every joined member; E owns nothing and comes last.
	for p, want := range map[int]string{0: "ABCDE", 4: "CDABE", 6: "DABCE"} {
		if got := str(s.Walk(p)); got != want {
			t.Errorf("Walk(%d) = %s, want %s", p, got, want)
		}
	}
	for id, want := range map[NodeID][]int{"A": {0, 1, 3, 7}, "C": {4, 5}, "E": nil, "Z": nil} {
		if got := s.PartitionsOf(id); !slices.Equal(got, want) {
			t.Errorf("PartitionsOf(%s) = %v, want %v", id, got, want)
		}
	}
	if got := s.Owner(9); got != "A" {
		t.Errorf("Owner(9) = %s, want A", got)
	}
}

// naivePreferenceList is PreferenceList written the obvious way.
func naivePreferenceList(owners []NodeID, p, n int) []NodeID {
	var list []NodeID
	for i := range len(owners) {
		if len(list) == n {
			break
		}
		if id := owners[(p+i)%len(owners)]; !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}

// TestPreferenceListProperties: on random rings, preference lists are
// distinct, in walk order, and a prefix of Walk; the top N of each sit on
// N consecutive partitions when Claim made windows distinct.
func TestPreferenceListProperties(t *testing.T) {
	rng := testRand(t)
	for range 50 {
		q := 1 << (3 + rng.IntN(8))
		var ms []Member
		for i := range 1 + rng.IntN(20) {
			ms = append(ms, Member{ID: node(i), Weight: 1 + rng.IntN(3)})
		}
		s, err := New(Config{Partitions: q, Replicas: 3}, ms)
		if err != nil {
			t.Fatal(err)
		}
		owners := s.Owners()
		res, _ := Claim(owners, ms, 3)
		for p := range q {
			walk := s.Walk(p)
			if len(walk) != len(ms) {
				t.Fatalf("Walk(%d) has %d members, want %d", p, len(walk), len(ms))
			}
			for _, n := range []int{1, 2, 3, 5, 20} {
				list := s.PreferenceList(p, n)
				if want := naivePreferenceList(owners, p, n); !slices.Equal(list, want) {
					t.Fatalf("PreferenceList(%d, %d) = %v, want %v", p, n, list, want)
				}
				if !slices.Equal(list, walk[:len(list)]) {
					t.Fatalf("PreferenceList(%d, %d) = %v is not a prefix of Walk %v", p, n, list, walk)
				}
				next := []NodeID{owners[p], owners[(p+1)%q], owners[(p+2)%q]}
				if n == 3 && res.Feasible && !slices.Equal(list, next) {
					t.Fatalf("feasible ring: PreferenceList(%d, 3) = %v, want the next 3 owners %v", p, list, next)
				}
			}
		}
	}
}

func TestMembership(t *testing.T) {
	cfg := Config{Partitions: 64, Replicas: 3}
	s, err := New(cfg, []Member{{ID: "n1", Addr: "127.0.0.1:6379", GossipAddr: "127.0.0.1:7946", Weight: 1}})
	if err != nil {
		t.Fatal(err)
	}
	step := func(ns *State, res ClaimResult, err error) *State {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if ns.Version() != s.Version()+1 {
			t.Fatalf("version %d after %d", ns.Version(), s.Version())
		}
		if res.Owners != nil && !slices.Equal(res.Owners, ns.Owners()) {
			t.Fatalf("ClaimResult.Owners differ from the new table")
		}
		return ns
	}
	for i := 2; i <= 8; i++ {
		s = step(s.Join(Member{ID: node(i), Weight: 1}))
	}
	for i := 1; i <= 8; i++ {
		if n := len(s.PartitionsOf(node(i))); n != 8 {
			t.Errorf("%s owns %d, want 8", node(i), n)
		}
	}
	if _, _, err := s.Join(Member{ID: "n3", Weight: 1}); !errors.Is(err, ErrDuplicateMember) {
		t.Errorf("Join of a joined member: %v", err)
	}

	// Leave: the leaver owns nothing but stays a member until Remove.
	s = step(s.Leave("n3"))
	if m, ok := s.Member("n3"); !ok || m.Status != StatusLeaving || len(s.PartitionsOf("n3")) != 0 {
		t.Errorf("after Leave: %+v %v, owns %v", m, ok, s.PartitionsOf("n3"))
	}
	if slices.Contains(s.Walk(0), "n3") {
		t.Errorf("Walk includes a leaving member")
	}
	if _, _, err := s.Leave("n3"); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("second Leave: %v", err)
	}
	if _, err := s.Remove("n4"); !errors.Is(err, ErrNotLeaving) {
		t.Errorf("Remove of a joined member: %v", err)
	}
	before := s.Owners()
	ns, err := s.Remove("n3")
	if err != nil {
		t.Fatal(err)
	}
	s = step(ns, ClaimResult{}, nil)
	if _, ok := s.Member("n3"); ok || !slices.Equal(before, s.Owners()) {
		t.Errorf("Remove changed ownership or kept the member")
	}
	if _, err := s.Remove("n3"); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("Remove of a non-member: %v", err)
	}

	// A leaving member may join again.
	s = step(s.Leave("n4"))
	s = step(s.Join(Member{ID: "n4", Weight: 2}))
	if m, _ := s.Member("n4"); m.Status != StatusJoined || m.Weight != 2 {
		t.Errorf("rejoined member %+v", m)
	}

	// Update: addresses alone keep the table; a weight change reclaims.
	before = s.Owners()
	s = step(s.Update(Member{ID: "n1", Addr: "10.0.0.1:6379", GossipAddr: "10.0.0.1:7946", Weight: 1}))
	if m, _ := s.Member("n1"); m.Addr != "10.0.0.1:6379" || m.Status != StatusJoined || !slices.Equal(before, s.Owners()) {
		t.Errorf("Update of addresses: %+v, table changed %v", m, !slices.Equal(before, s.Owners()))
	}
	s = step(s.Update(Member{ID: "n1", Weight: 3}))
	if n := len(s.PartitionsOf("n1")); n < 19 || n > 20 { // 64*3/10
		t.Errorf("n1 of weight 3 owns %d", n)
	}
	if _, _, err := s.Update(Member{ID: "zz", Weight: 1}); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("Update of a non-member: %v", err)
	}

	// Forget, down to the last member.
	for _, m := range s.Members() {
		if m.ID == "n8" {
			continue
		}
		s = step(s.Forget(m.ID))
	}
	if got := s.PartitionsOf("n8"); len(got) != 64 {
		t.Errorf("last member owns %d", len(got))
	}
	if _, _, err := s.Forget("n8"); !errors.Is(err, ErrNoMembers) {
		t.Errorf("Forget of the last member: %v", err)
	}
	if _, _, err := s.Leave("n8"); !errors.Is(err, ErrNoMembers) {
		t.Errorf("Leave of the last member: %v", err)
	}
	if _, _, err := s.Forget("n3"); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("Forget of a non-member: %v", err)
	}
}

func TestKeyPartition(t *testing.T) {
	s, err := New(Config{Partitions: 256, Replicas: 3}, equal("ABC"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"foo", "bar", "{user1000}.following"} {
		slot := Slot([]byte(key))
		p := s.KeyPartition([]byte(key))
		if start, end := SlotRange(p, 256); int(slot) < start || int(slot) >= end {
			t.Errorf("key %q: slot %d outside partition %d [%d, %d)", key, slot, p, start, end)
		}
	}
	if got := s.KeyPartition([]byte("foo")); got != 12182/64 {
		t.Errorf("KeyPartition(foo) = %d, want %d", got, 12182/64)
	}
}

func TestCloneEqual(t *testing.T) {
	s, _ := New(Config{Partitions: 8, Replicas: 3}, equal("ABCD"))
	c := s.Clone()
	if c == s || !c.Equal(s) || c.Digest() != s.Digest() {
		t.Fatalf("Clone is not an equal copy")
	}
	// Mutating the copies handed out leaves the State alone.
	ms := s.Members()
	ms[0].ID = "Z"
	o := s.Owners()
	o[0] = "Z"
	if s.Owner(0) != "A" || s.Members()[0].ID != "A" {
		t.Errorf("State changed through a returned slice")
	}
	j, _, _ := s.Join(Member{ID: "E", Weight: 1})
	if j.Equal(s) {
		t.Errorf("different States are Equal")
	}
}

func ExampleState_PreferenceList() {
	s, _ := New(Config{Partitions: 8, Replicas: 3}, []Member{
		{ID: "n1", Weight: 1}, {ID: "n2", Weight: 1}, {ID: "n3", Weight: 1}, {ID: "n4", Weight: 1},
	})
	p := s.KeyPartition([]byte("foo")) // slot 12182 → partition 5
	fmt.Println(p, s.PreferenceList(p, s.Replicas()), s.Walk(p))
	// Output: 5 [n2 n4 n3] [n2 n4 n3 n1]
}
