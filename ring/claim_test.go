package ring

import (
	"errors"
	"fmt"
	"github.com/dynakv/dynakv/internal/testseed"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// testRand returns a generator seeded by -seed, or by a fresh seed that is
// logged so that a failure can be replayed with -seed.
func testRand(t testing.TB) *rand.Rand {
	seed := testseed.Seed(t)
	return rand.New(rand.NewPCG(seed, seed))
}

// letters makes a table from a string, one letter per partition.
func letters(s string) []NodeID {
	ids := make([]NodeID, len(s))
	for i, r := range s {
		ids[i] = NodeID(string(r))
	}
	return ids
}

// str is the inverse of letters, for one-letter IDs.
func str(ids []NodeID) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(string(id))
	}
	return b.String()
}

// equal makes members with one-letter IDs and weight 1.
func equal(ids string) []Member {
	var ms []Member
	for _, r := range ids {
		ms = append(ms, Member{ID: NodeID(string(r)), Weight: 1, Status: StatusJoined})
	}
	return ms
}

// TestClaimTable checks cases small enough to work out by hand.
func TestClaimTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cur     string // "" for an empty ring of len(want) partitions
		members []Member
		n       int
		want    string
		moved   int
		viol    int
	}{
		// An empty ring is dealt round-robin, each round a permutation
		// that keeps neighbours varied: at 4, A or B may go (C, D are
		// within 2); so far A has been next to C, B next to C and D, so
		// A. At 5, B or C: B has been near D and A twice, C three times.
		// At 6, C or D: next to A, A, B, D scores 4 and C 5.
		{"new 4 nodes", "", equal("ABCD"), 3, "ABCDABDC", 8, 0},
		{"new 5 nodes", "", equal("ABCDE"), 3, "ABCDEABCDEABCADE", 16, 0},
		// Fewer than N members: repeats are unavoidable, and spread out.
		{"new 2 nodes", "", equal("AB"), 3, "ABABABAB", 8, 8},
		// Three members and Q=8: the shares are 3, 3, 2, so A's third
		// partition repeats across the wrap (windows 6 and 7).
		{"new 3 nodes", "", equal("ABC"), 3, "ABCABCAB", 8, 2},
		// The fifth node of equal weight takes one partition (8/5 = 1.6;
		// A, B, C keep 2, D drops to 1) from the member above its share.
		{"join", "ABCDABCD", equal("ABCDE"), 3, "ABCEABCD", 1, 0},
		{"join 9th", "ABCDEFGHABCDEFGH", equal("ABCDEFGHI"), 3, "ABCDEFGIABCDEFGH", 1, 0},
		// A leave moves only the leaver's partitions, to members that hold
		// no partition within N-1 of them (C at 7, D at 15).
		{"leave", "ABCDEFGHABCDEFGH", equal("ABCDEFG"), 3, "ABCDEFGCABCDEFGD", 2, 0},
		// With N = 1 there is no window: D's partitions go to A and B.
		{"leave n=1", "ABCDABCD", equal("ABC"), 1, "ABCAABCB", 2, 0},
		// Nothing to do.
		{"stable", "ABCDABCD", equal("DCBA"), 3, "ABCDABCD", 0, 0},
		// A partition of a non-member is free; its neighbours exclude A,
		// B, D.
		{"forgotten owner", "ABCDABCX", equal("ABCD"), 3, "ABCDABCD", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := make([]NodeID, len(tc.want))
			if tc.cur != "" {
				cur = letters(tc.cur)
			}
			res, err := Claim(cur, tc.members, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if got := str(res.Owners); got != tc.want || res.Moved != tc.moved || res.Violations != tc.viol {
				t.Errorf("Claim(%q) = %s, moved %d, violations %d; want %s, %d, %d",
					tc.cur, got, res.Moved, res.Violations, tc.want, tc.moved, tc.viol)
			}
			checkClaim(t, cur, tc.members, tc.n, res)
		})
	}
}

func TestClaimErrors(t *testing.T) {
	ok := equal("AB")
	for _, tc := range []struct {
		name    string
		cur     []NodeID
		members []Member
		n       int
		want    error
	}{
		{"q=0", nil, ok, 3, ErrInvalidPartitions},
		{"q=3", make([]NodeID, 3), ok, 3, ErrInvalidPartitions},
		{"n=0", make([]NodeID, 8), ok, 0, ErrInvalidReplicas},
		{"no members", make([]NodeID, 8), nil, 3, ErrNoMembers},
		{"only leaving", make([]NodeID, 8), []Member{{ID: "A", Weight: 1, Status: StatusLeaving}}, 3, ErrNoMembers},
		{"weight 0", make([]NodeID, 8), []Member{{ID: "A"}}, 3, ErrInvalidMember},
		{"empty id", make([]NodeID, 8), []Member{{Weight: 1}}, 3, ErrInvalidMember},
		{"space in id", make([]NodeID, 8), []Member{{ID: "a b", Weight: 1}}, 3, ErrInvalidMember},
		{"bad status", make([]NodeID, 8), []Member{{ID: "A", Weight: 1, Status: "gone"}}, 3, ErrInvalidMember},
		{"duplicate", make([]NodeID, 8), equal("ABA"), 3, ErrDuplicateMember},
	} {
		if _, err := Claim(tc.cur, tc.members, tc.n); !errors.Is(err, tc.want) {
			t.Errorf("%s: Claim error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestClaimDeterministic: the order of members does not change the table.
// It also runs Claim on arbitrary tables, tiny rings included.
func TestClaimDeterministic(t *testing.T) {
	rng := testRand(t)
	for range 100 {
		q := 1 << rng.IntN(9)
		var ms []Member
		for i := range 3 + rng.IntN(8) {
			ms = append(ms, Member{ID: node(i), Weight: 1 + rng.IntN(3)})
		}
		cur := make([]NodeID, q)
		for p := range cur {
			cur[p] = node(rng.IntN(len(ms) + 2)) // some are non-members
		}
		a, err := Claim(cur, ms, 3)
		if err != nil {
			t.Fatal(err)
		}
		rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		b, _ := Claim(slices.Clone(cur), ms, 3)
		if !slices.Equal(a.Owners, b.Owners) {
			t.Fatalf("Claim depends on member order:\n%v\n%v", a.Owners, b.Owners)
		}
		checkClaim(t, cur, ms, 3, a)
	}
}

// shares returns the floor and ceil of each eligible member's weighted
// share of q partitions.
func shares(q int, members []Member) (floor, ceil map[NodeID]int) {
	total := 0
	for _, m := range members {
		if m.Status != StatusLeaving {
			total += m.Weight
		}
	}
	floor, ceil = map[NodeID]int{}, map[NodeID]int{}
	for _, m := range members {
		if m.Status != StatusLeaving {
			floor[m.ID] = q * m.Weight / total
			ceil[m.ID] = (q*m.Weight + total - 1) / total
		}
	}
	return floor, ceil
}

// windowViolations counts the starting partitions p whose window p..p+w-1
// (wrapping) repeats an owner.
func windowViolations(owners []NodeID, w int) int {
	v := 0
	for p := range owners {
		seen := map[NodeID]bool{}
		for i := range w {
			id := owners[(p+i)%len(owners)]
			if seen[id] {
				v++
				break
			}
			seen[id] = true
		}
	}
	return v
}

// checkClaim verifies res = Claim(cur, members, n) against the properties
// documented on Claim, computing each independently, and returns the
// number of windows that repeat an owner.
func checkClaim(t *testing.T, cur []NodeID, members []Member, n int, res ClaimResult) int {
	t.Helper()
	q := len(cur)
	floor, ceil := shares(q, members)
	if len(res.Owners) != q {
		t.Fatalf("len(Owners) = %d, want %d", len(res.Owners), q)
	}
	count := map[NodeID]int{}
	for p, id := range res.Owners {
		if _, ok := floor[id]; !ok {
			t.Fatalf("partition %d owned by %q, not an eligible member", p, id)
		}
		count[id]++
	}
	// (a) Shares, and so proportionality: |c_i*w_j - c_j*w_i| < w_i + w_j
	// (a weight-2 node owns twice what a weight-1 node owns, ±1 each).
	weight := map[NodeID]int{}
	for _, m := range members {
		weight[m.ID] = m.Weight
	}
	for id := range floor {
		if c := count[id]; c < floor[id] || c > ceil[id] {
			t.Errorf("%s owns %d partitions, want %d..%d", id, c, floor[id], ceil[id])
		}
		for jd := range floor {
			if d := count[id]*weight[jd] - count[jd]*weight[id]; d >= weight[id]+weight[jd] {
				t.Errorf("%s (weight %d) owns %d, %s (weight %d) owns %d", id, weight[id], count[id], jd, weight[jd], count[jd])
			}
		}
	}
	// (b) The fewest moves for (a): the partitions without an eligible
	// owner, plus every surplus over the floor, less one for each member
	// that already holds its ceil and can keep it (at most r of them, r =
	// Q - Σfloor).
	before := map[NodeID]int{}
	orphans := 0
	for _, id := range cur {
		if _, ok := floor[id]; ok {
			before[id]++
		} else {
			orphans++
		}
	}
	r, keepers, minMoved := q, 0, orphans
	for id := range floor {
		r -= floor[id]
		minMoved += max(0, before[id]-floor[id])
		if ceil[id] > floor[id] && before[id] >= ceil[id] {
			keepers++
		}
	}
	minMoved -= min(r, keepers)
	moved := 0
	for p := range cur {
		if cur[p] != res.Owners[p] {
			moved++
		}
	}
	if res.Moved != moved || res.MinMoved != minMoved {
		t.Errorf("Moved, MinMoved = %d, %d, want %d, %d", res.Moved, res.MinMoved, moved, minMoved)
	}
	// (c) Distinct windows, feasible iff every share can be at most Q/w.
	w := min(n, q)
	g := q / w
	feasible, room := true, 0
	for id := range floor {
		if floor[id] > g {
			feasible = false
		}
		room += min(ceil[id], max(g, floor[id]))
	}
	feasible = feasible && room >= q
	v := windowViolations(res.Owners, w)
	if res.Window != w || res.Feasible != feasible || res.Violations != v {
		t.Errorf("Window, Feasible, Violations = %d, %v, %d, want %d, %v, %d", res.Window, res.Feasible, res.Violations, w, feasible, v)
	}
	// A ring built from nothing has no moves to save: its fresh layout has
	// distinct windows when they are feasible. Any other claim moves
	// exactly the minimum, and keeps windows distinct only as a best effort.
	fresh := !slices.ContainsFunc(cur, func(id NodeID) bool { return id != "" })
	if fresh && feasible && v > 0 {
		t.Errorf("%d windows of %d repeat an owner in a new ring, though distinct windows are feasible", v, w)
	}
	if !fresh && moved != minMoved {
		t.Errorf("moved %d, want the minimum %d", moved, minMoved)
	}
	// Claiming the result again changes nothing.
	if again, err := Claim(res.Owners, members, n); err != nil || again.Moved != 0 {
		t.Errorf("reclaiming the result moves %d partitions (err %v)", again.Moved, err)
	}
	return v
}

func node(i int) NodeID { return NodeID(fmt.Sprintf("n%d", i)) }

// claimStats sums the windows that repeat an owner over many claims
// where distinct windows were feasible.
type claimStats struct {
	claims, feasible, repeatClaims, repeats, maxRepeats int
}

func (s *claimStats) add(feasible bool, repeats int) {
	s.claims++
	if !feasible {
		return
	}
	s.feasible++
	if repeats > 0 {
		s.repeatClaims++
		s.repeats += repeats
		s.maxRepeats = max(s.maxRepeats, repeats)
	}
}

func (s claimStats) String() string {
	return fmt.Sprintf("%d claims, %d feasible; of these %d leave repeated windows, %d windows in all, at most %d in one",
		s.claims, s.feasible, s.repeatClaims, s.repeats, s.maxRepeats)
}

// TestClaimSequences runs random sequences of joins (sometimes several at
// once), leaves and forgets, with weights 1..3 and N = 3, and checks every
// claim with checkClaim (every claim moves exactly MinMoved), and logs
// how many windows repeat an owner, overall and in roomy rings (at least
// 2N+2 members before and after, no share above Q/(2N)).
func TestClaimSequences(t *testing.T) {
	const n = 3
	rng := testRand(t)
	for _, q := range []int{8, 64, 256, 1024} {
		t.Run(fmt.Sprintf("q=%d", q), func(t *testing.T) {
			var all, big claimStats
			seqs := 30
			if q == 1024 {
				seqs = 6
			}
			for range seqs {
				next := 0
				var members []Member
				cur := make([]NodeID, q)
				for range 30 {
					joined := 0
					for _, m := range members {
						if m.Status == StatusJoined {
							joined++
						}
					}
					was := joined
					switch op := rng.IntN(10); {
					case joined == 0 || op < 5 && joined < 40:
						k := 1
						if rng.IntN(4) == 0 {
							k += rng.IntN(3)
						}
						for range k {
							next++
							members = append(members, Member{ID: node(next), Weight: 1 + rng.IntN(3), Status: StatusJoined})
						}
					case joined == 1:
						continue
					case op < 8: // leave
						i := rng.IntN(len(members))
						for members[i].Status == StatusLeaving {
							i = rng.IntN(len(members))
						}
						members[i].Status = StatusLeaving
					default: // forget any member (a leaving one: remove)
						i := rng.IntN(len(members))
						if members[i].Status == StatusJoined && joined == 1 {
							continue
						}
						members = slices.Delete(members, i, i+1)
					}
					in := slices.Clone(members)
					rng.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
					res, err := Claim(cur, in, n)
					if err != nil {
						t.Fatalf("Claim: %v", err)
					}
					extra := checkClaim(t, cur, members, n, res)
					all.add(res.Feasible, extra)
					if res.Moved != res.MinMoved {
						t.Errorf("%d members → %d: moved %d, minimum %d", was, now(members), res.Moved, res.MinMoved)
					}
					now := now(members)
					// Rings with room: at least 2N+2 members before and
					// after, every share at most half the most a member
					// can own with distinct windows (Q/N).
					_, ceil := shares(q, members)
					roomy := min(was, now) >= 2*n+2
					for _, c := range ceil {
						roomy = roomy && c <= q/n/2
					}
					if roomy {
						big.add(res.Feasible, extra)
					}
					if t.Failed() {
						t.Fatalf("members %v\ncur %v\nnew %v", members, cur, res.Owners)
					}
					cur = res.Owners
				}
			}
			t.Logf("all: %v", all)
			t.Logf("roomy rings: %v", big)
		})
	}
}

// now counts the joined members.
func now(members []Member) int {
	k := 0
	for _, m := range members {
		if m.Status != StatusLeaving {
			k++
		}
	}
	return k
}

// TestClaimEqualWeights: with equal weights and at least 2N+1 members
// before and after, a join of the (S+1)th node moves exactly the
// new node's share, taken from the others, and a leave moves exactly the
// leaver's partitions.
func TestClaimEqualWeights(t *testing.T) {
	const n = 3
	rng := testRand(t)
	for _, q := range []int{64, 256, 1024} {
		var members []Member
		next := 0
		cur := make([]NodeID, q)
		for range 60 {
			was := len(members)
			if was <= 2*n+1 || was < 24 && rng.IntN(2) == 0 {
				next++
				members = append(members, Member{ID: node(next), Weight: 1})
			} else {
				i := rng.IntN(was)
				members = slices.Delete(members, i, i+1)
			}
			res, err := Claim(cur, members, n)
			if err != nil {
				t.Fatal(err)
			}
			checkClaim(t, cur, members, n, res)
			if was > 0 && res.Moved != res.MinMoved {
				t.Errorf("q=%d, %d → %d members: moved %d, want %d", q, was, len(members), res.Moved, res.MinMoved)
			}
			cur = res.Owners
		}
	}
}

// TestJoinOneAtATimeMovesAboutQOverS is the paper's incremental
// scalability claim for a ring grown one equal node at a time (Q=256, N=3):
// each join moves the new node's share Q/S, taken from the others, and no
// more (3→4 included: distinct windows are a best effort, never paid for
// with moves).
func TestJoinOneAtATimeMovesAboutQOverS(t *testing.T) {
	const q = 256
	var members []Member
	cur := make([]NodeID, q)
	for s := 1; s <= 12; s++ {
		members = append(members, Member{ID: node(s), Weight: 1})
		res, err := Claim(cur, members, 3)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("join %d→%d: moved %d, minimum %d", s-1, s, res.Moved, res.MinMoved)
		if res.MinMoved != q/s && res.MinMoved != q/s+1 {
			t.Errorf("join %d→%d: minimum %d, want Q/S = %d (±1)", s-1, s, res.MinMoved, q/s)
		}
		if s > 1 && res.Moved != res.MinMoved {
			t.Errorf("join %d→%d: moved %d partitions, want %d", s-1, s, res.Moved, res.MinMoved)
		}
		for _, p := range res.Owners {
			if p == "" {
				t.Fatalf("join %d→%d left a partition without owner", s-1, s)
			}
		}
		// Only partitions that went to the new node moved.
		for p := range cur {
			if cur[p] != "" && cur[p] != res.Owners[p] && res.Owners[p] != node(s) {
				t.Errorf("join %d→%d: partition %d moved between old nodes", s-1, s, p)
			}
		}
		cur = res.Owners
	}
}
