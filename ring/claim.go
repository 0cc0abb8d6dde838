package ring

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
)

// ClaimResult is the outcome of Claim.
type ClaimResult struct {
	// Owners is the new partition table: Owners[p] owns partition p.
	Owners []NodeID
	// Moved is the number of partitions whose owner differs from the input
	// table (partitions that had no eligible owner count as moved).
	Moved int
	// MinMoved is the fewest moves with which any table could give every
	// eligible member its share: the partitions without an eligible owner,
	// plus every member's surplus over its share. Moved equals it except
	// when a new ring is laid out.
	MinMoved int
	// Window is the number of consecutive partitions that should have
	// distinct owners: min(n, Q).
	Window int
	// Feasible reports whether the shares admit a table in which every
	// Window consecutive partitions (wrapping) have distinct owners: at
	// least Window members, and no share above Q/Window.
	Feasible bool
	// Violations counts the windows of Window consecutive partitions
	// (wrapping, one per starting partition) that repeat an owner. It is 0
	// for a new ring whenever Feasible, and as small as untangle could make
	// it otherwise.
	Violations int
}

// Claim assigns the partitions of a ring to members and returns the new
// table; it is how joins, leaves and forgets change ownership. cur is the
// current table (len(cur) = Q, a valid partition count); entries that are
// empty or name a node that is not an eligible member are free. Members
// whose Status is StatusLeaving are not eligible and get no partitions; the
// others (StatusJoined or the zero Status) are. n is the replica count N.
// The order of members does not matter, and Claim is deterministic: the
// same input gives the same output on every platform and Go version.
// Claiming Claim's own output again, with the same members, moves nothing.
//
// Claim meets three properties, in priority order:
//
//	a. Shares: member i gets floor or ceil of Q*w_i/W partitions, W being
//	   the total weight of the eligible members. Always.
//	b. Fewest moves: on a ring that has owners (every claim but the first),
//	   exactly MinMoved partitions move: the free ones and each member's
//	   surplus over its share, nothing else. A join takes its share evenly
//	   from the others; a leave or forget moves only the leaver's
//	   partitions.
//	c. Distinct windows, as a best effort: any Window consecutive
//	   partitions (wrapping) should have distinct owners, so that the top N
//	   of every preference list lie on N consecutive partitions and each
//	   node holds replicas of N times its share. A new ring (every
//	   partition free) is laid out so whenever Feasible. On an existing
//	   ring Claim never pays a move for it: among the tables that move
//	   MinMoved partitions it prefers those with fewer repeats.
//
// NB: (c) is only about replica load balance. Preference lists skip nodes
// already listed, so a repeated owner never puts two replicas of a key on
// one node; it makes the next distinct node further along hold them.
// Moving more than the minimum would cost every join and leave data
// transfer (3→4 nodes at Q = 256 moved 78 partitions instead of 64 when
// (c) was a hard rule, and mixed joins and leaves of 4 to 7 members far
// more); the price now is a few repeated windows (TestClaimSequences logs
// them: none or almost none in rings of at least 2N+2 members, more in
// small and tight rings and when a ring grows from fewer than N members).
//
// How it works: members keep what they can; free partitions go to members
// below their share by a maximum flow (so a leaver's partitions go
// straight to members that can own them without a repeat whenever
// possible), the rest most constrained first; members below their share
// then take partitions from members above it, each along the cheapest
// chain of takes that makes no repeat and no extra move (Dijkstra's search
// over members), or else the partition that makes the fewest repeats,
// choosing partitions spread evenly around the ring. Then untangle, a
// deterministic simulated annealing over exchanges of two partitions'
// owners that never adds a move, removes what repeats it can. On an empty
// ring the partitions are dealt round-robin, weighted by share, varying
// the order from round to round so that nodes have varied neighbours;
// repeats left there are removed by cycles of takes and an annealing that
// may move partitions (none of them had an owner), compared with a fresh
// repeat-free layout.
//
// Cost: milliseconds at Q = 256; at Q = 16384 a new ring takes tens of
// milliseconds and a join about half a second. The annealing, when it
// runs, makes 200 proposals per partition (tens of milliseconds at
// Q = 1024).
//
// Claim returns an error wrapping ErrInvalidPartitions,
// ErrInvalidReplicas, ErrInvalidMember, ErrDuplicateMember or ErrNoMembers.
func Claim(cur []NodeID, members []Member, n int) (ClaimResult, error) {
	if err := ValidatePartitions(len(cur)); err != nil {
		return ClaimResult{}, err
	}
	if err := validateReplicas(n); err != nil {
		return ClaimResult{}, err
	}
	var elig []Member
	for _, m := range members {
		if err := m.validate(); err != nil {
			return ClaimResult{}, err
		}
		if m.Status != StatusLeaving {
			elig = append(elig, m)
		}
	}
	slices.SortFunc(elig, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(elig); i++ {
		if elig[i].ID == elig[i-1].ID {
			return ClaimResult{}, fmt.Errorf("%w: %q", ErrDuplicateMember, elig[i].ID)
		}
	}
	if len(elig) == 0 {
		return ClaimResult{}, ErrNoMembers
	}
	// NB: a leaving member listed twice is not caught above; it does not
	// matter to Claim, and State validates its own member lists.
	c := newClaimer(cur, elig, n)
	c.run()
	return c.result(), nil
}

// claimer holds the working state of one Claim. Members are referred to by
// their index in ids (sorted by ID), partitions by index; -1 means "none".
type claimer struct {
	q, n     int      // partitions; window (effective N)
	ids      []NodeID // eligible members, sorted
	w        []int    // weights
	orig     []int    // owner before the claim, -1 if free
	own      []int    // owner now
	cnt      []int    // partitions owned now, per member
	tgt      []int    // share, per member
	floor    []int    // floor of the exact share, per member
	ceilOK   []bool   // whether a member may get floor+1
	order    []int    // members that may get floor+1, by preference
	feasible bool     // distinct windows are possible with these shares
	minimal  bool     // the ring had owners: move exactly minMoved partitions
	minMoved int
	adj      []int // adj[x*M+y]: x and y within a window, during fill
	buf      []int // scratch for window scans
	dist     []int // scratch for distances
}

func newClaimer(cur []NodeID, elig []Member, n int) *claimer {
	q, m := len(cur), len(elig)
	c := &claimer{
		q:    q,
		n:    min(n, q),
		ids:  make([]NodeID, m),
		w:    make([]int, m),
		orig: make([]int, q),
		own:  make([]int, q),
		cnt:  make([]int, m),
		dist: make([]int, q),
	}
	for _, id := range cur {
		if id != "" {
			// NB: even a table whose owners all left counts: its partitions
			// are free, and dealing them is MinMoved moves whatever the
			// layout; only a ring built from nothing gets a fresh layout.
			c.minimal = true
			break
		}
	}
	idx := make(map[NodeID]int, m)
	for i, mb := range elig {
		c.ids[i], c.w[i] = mb.ID, mb.Weight
		idx[mb.ID] = i
	}
	for p, id := range cur {
		x, ok := idx[id]
		if !ok {
			x = -1
		} else {
			c.cnt[x]++
		}
		c.orig[p], c.own[p] = x, x
	}
	c.targets()
	return c
}

// targets sets tgt, feasible and minMoved. Every member gets
// floor(Q*w/W); the remaining r partitions go, one each, to members with
// a fractional share, preferring (1) when distinct windows are feasible,
// members whose ceil still fits in a window layout (at most Q/n
// partitions), (2) members that already own at least their ceil (giving
// them the ceil saves a move), (3) larger fractional parts, (4) lower IDs.
// (matchFree may then move a ceil between members that do not own it yet.)
func (c *claimer) targets() {
	m := len(c.w)
	total := 0
	for _, w := range c.w {
		total += w
	}
	g := c.q / c.n // most partitions one member can own with distinct windows
	floor := make([]int, m)
	frac := make([]int, m)
	r := c.q
	var cands []int
	fits := 0
	c.feasible = true
	for i, w := range c.w {
		floor[i], frac[i] = c.q*w/total, c.q*w%total
		r -= floor[i]
		if floor[i] > g {
			c.feasible = false
		}
		if frac[i] > 0 {
			cands = append(cands, i)
			if floor[i]+1 <= g {
				fits++
			}
		}
	}
	if fits < r {
		c.feasible = false
	}
	pick := func(capped bool) []int {
		key := func(i int) (fit, keeps bool) {
			return !capped || floor[i]+1 <= g, c.cnt[i] >= floor[i]+1
		}
		slices.SortFunc(cands, func(a, b int) int {
			fa, ka := key(a)
			fb, kb := key(b)
			if fa != fb {
				return boolOrder(fa, fb)
			}
			if ka != kb {
				return boolOrder(ka, kb)
			}
			if frac[a] != frac[b] {
				return cmp.Compare(frac[b], frac[a])
			}
			return cmp.Compare(a, b)
		})
		t := slices.Clone(floor)
		for _, i := range cands[:r] {
			t[i]++
		}
		return t
	}
	c.tgt = pick(c.windows())
	c.floor = floor
	c.order = slices.Clone(cands)
	c.ceilOK = make([]bool, m)
	for _, i := range cands {
		c.ceilOK[i] = !c.windows() || floor[i]+1 <= g
	}
	pure := pick(false)
	for _, x := range c.orig {
		if x < 0 {
			c.minMoved++
		}
	}
	for i := range pure {
		c.minMoved += max(0, c.cnt[i]-pure[i])
	}
}

// windows reports whether this claim pays moves for distinct windows: only
// when it lays out a new ring (every partition free) and they are
// feasible. A claim on an existing ring moves exactly MinMoved partitions
// and keeps windows distinct only where that costs nothing (untangle).
func (c *claimer) windows() bool { return c.feasible && !c.minimal }

// boolOrder sorts true before false.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// run is Claim's pipeline; see Claim's documentation.
func (c *claimer) run() {
	if c.windows() {
		c.releaseConflicts()
	}
	c.matchFree()
	c.fill()
	c.steal()
	if c.minimal {
		if c.feasible && c.violations() > 0 {
			c.untangle()
		}
		return
	}
	if !c.feasible {
		return
	}
	if c.violations() > 0 {
		c.repair()
	}
	if c.violations() == 0 && c.moved() == c.minMoved {
		return
	}
	// The greedy passes left repeats or extra moves: search for better,
	// and compare with a fresh layout, which bounds the moves.
	ok := c.anneal()
	kept, keptMoved := slices.Clone(c.own), c.moved()
	c.relayout()
	if ok && keptMoved <= c.moved() {
		copy(c.own, kept)
		return
	}
	c.anneal()
}

func (c *claimer) result() ClaimResult {
	res := ClaimResult{
		Owners:     make([]NodeID, c.q),
		MinMoved:   c.minMoved,
		Window:     c.n,
		Feasible:   c.feasible,
		Violations: c.violations(),
	}
	for p, x := range c.own {
		res.Owners[p] = c.ids[x]
		if x != c.orig[p] {
			res.Moved++
		}
	}
	return res
}

// window appends to dst the positions other than p within distance n-1 of
// p (cyclic), each once.
func (c *claimer) window(dst []int, p int) []int {
	for d := 1; d < c.n; d++ {
		dst = append(dst, (p+d)%c.q)
	}
	// p-d coincides with p+d' when d+d' = q; skip those.
	for d := 1; d < c.n && d < c.q-c.n+1; d++ {
		dst = append(dst, (p-d+c.q)%c.q)
	}
	return dst
}

// conflicts counts the partitions other than p and skip, within distance
// n-1 of p, owned by x.
func (c *claimer) conflicts(x, p, skip int) int { return c.near(x, p, skip, false) }

// closeness weighs the repeats x would make at p: each partition of x at
// distance d < n from p (other than skip) adds n-d, so near repeats weigh
// more. Where repeats cannot be avoided, choosing by closeness spreads
// them (two members alternate rather than pair up).
func (c *claimer) closeness(x, p, skip int) int { return c.near(x, p, skip, true) }

// near walks the same positions as window (without the slice, as it is the
// innermost loop of Claim) and sums, over those other than skip owned by x,
// 1 each, or n-d at distance d when weighted.
func (c *claimer) near(x, p, skip int, weighted bool) int {
	k := 0
	add := func(r, d int) {
		if r != skip && c.own[r] == x {
			if weighted {
				k += c.n - d
			} else {
				k++
			}
		}
	}
	for d := 1; d < c.n; d++ {
		r := p + d
		if r >= c.q {
			r -= c.q
		}
		add(r, d)
	}
	for d := 1; d < c.n && d < c.q-c.n+1; d++ {
		r := p - d
		if r < 0 {
			r += c.q
		}
		add(r, d)
	}
	return k
}

// valid reports whether x can own p without a repeat in any window, not
// counting partition skip.
func (c *claimer) valid(x, p, skip int) bool { return c.conflicts(x, p, skip) == 0 }

// violations counts windows of n consecutive partitions with a repeated
// owner (free partitions never repeat).
func (c *claimer) violations() int {
	v := 0
	for p := range c.q {
		if c.repeats(p) {
			v++
		}
	}
	return v
}

func (c *claimer) repeats(p int) bool {
	for i := range c.n {
		x := c.own[(p+i)%c.q]
		if x < 0 {
			continue
		}
		for j := i + 1; j < c.n; j++ {
			if c.own[(p+j)%c.q] == x {
				return true
			}
		}
	}
	return false
}

// higher reports whether member a needs partitions more urgently than b:
// a larger missing fraction of its share, then the lower index.
func (c *claimer) higher(a, b int) bool {
	if k := c.need(a, b); k != 0 {
		return k > 0
	}
	return a < b
}

// need compares the missing fractions of the shares of a and b.
func (c *claimer) need(a, b int) int {
	da, db := c.tgt[a]-c.cnt[a], c.tgt[b]-c.cnt[b]
	return cmp.Compare(da*c.tgt[b], db*c.tgt[a])
}

// maxAdjMembers bounds the members for which fill tracks adjacency (an
// M×M table).
const maxAdjMembers = 512

// adjacency sums how often x has been within a window of the owners near p.
func (c *claimer) adjacency(x, p int) int {
	m := len(c.cnt)
	s := 0
	c.buf = c.window(c.buf[:0], p)
	for _, r := range c.buf {
		if y := c.own[r]; y >= 0 {
			s += c.adj[y*m+x]
		}
	}
	return s
}

// adjoin counts the pairs that x at p forms with the owners near it.
func (c *claimer) adjoin(x, p int) {
	m := len(c.cnt)
	c.buf = c.window(c.buf[:0], p)
	for _, r := range c.buf {
		if y := c.own[r]; y >= 0 && y != x {
			c.adj[y*m+x]++
			c.adj[x*m+y]++
		}
	}
}

// neediest returns the member with a deficit that needs partitions most,
// or -1.
func (c *claimer) neediest() int {
	best := -1
	for x := range c.cnt {
		if c.cnt[x] < c.tgt[x] && (best < 0 || c.higher(x, best)) {
			best = x
		}
	}
	return best
}

func (c *claimer) assign(p, x int) {
	if y := c.own[p]; y >= 0 {
		c.cnt[y]--
	}
	c.own[p] = x
	if x >= 0 {
		c.cnt[x]++
	}
}

// moveCost is the change in the number of moved partitions if p goes to x.
func (c *claimer) moveCost(p, x int) int {
	before, after := 0, 0
	if c.orig[p] != c.own[p] {
		before = 1
	}
	if c.orig[p] != x {
		after = 1
	}
	return after - before
}

// releaseConflicts frees partitions until no member owns two partitions
// in one window. It frees first the partition in the most conflicts,
// preferring members above their share (a free move), then the lowest
// index.
func (c *claimer) releaseConflicts() {
	for {
		best, bestK, bestSurplus := -1, 0, false
		for p, x := range c.own {
			if x < 0 {
				continue
			}
			k := c.conflicts(x, p, -1)
			if k == 0 {
				continue
			}
			surplus := c.cnt[x] > c.tgt[x]
			if k > bestK || k == bestK && surplus && !bestSurplus {
				best, bestK, bestSurplus = p, k, surplus
			}
		}
		if best < 0 {
			return
		}
		c.assign(best, -1)
	}
}

// matchFree gives free partitions to members below their share by a
// maximum flow, so that as few as possible are left for fill, which may
// have to hand one to a member at its share (costing a move elsewhere):
// with a single leaver, its partitions go straight to members that can
// own them without a repeat whenever that is possible. The flow may also
// choose which members get the ceil of their share, among those that do
// not own it yet. A ring whose partitions are all free (a new ring) is
// left to fill, which deals it round-robin, and so is one too large for
// the O(F²M) flow.
func (c *claimer) matchFree() {
	var free []int
	for p, x := range c.own {
		if x < 0 {
			free = append(free, p)
		}
	}
	m := len(c.cnt)
	if f := len(free); f == 0 || f == c.q || f*f*m > 1<<26 {
		return
	}
	// Ceils not yet covered by what their member owns can move among the
	// members that may have one and do not own it yet.
	tokens := 0
	flex := make([]bool, m)
	for i := range m {
		if c.tgt[i] > c.floor[i] && c.cnt[i] <= c.floor[i] {
			tokens++
		}
		flex[i] = c.ceilOK[i] && c.cnt[i] <= c.floor[i]
	}
	// Nodes: source, sink, pool of ceils, members, free partitions.
	const src, sink, pool = 0, 1, 2
	g := newFlow(3 + m + len(free))
	g.edge(src, pool, tokens)
	for i := range m {
		if d := c.floor[i] - c.cnt[i]; d > 0 {
			g.edge(src, 3+i, d)
		}
	}
	if tokens > 0 {
		for _, i := range c.order { // the preferred first
			if flex[i] {
				g.edge(pool, 3+i, 1)
			}
		}
	}
	for k, p := range free {
		for i := range m {
			if c.valid(i, p, -1) {
				g.edge(3+i, 3+m+k, 1)
			}
		}
		g.edge(3+m+k, sink, 1)
	}
	g.maxFlow(src, sink)
	// Ceils: to members fed by the pool, then, for those left, in the
	// order targets preferred.
	for i := range m {
		if flex[i] {
			c.tgt[i] = c.floor[i]
		}
	}
	for _, e := range g.out[pool] {
		if i := g.to[e] - 3; i >= 0 && i < m && g.flow(e) > 0 {
			c.tgt[i]++
			tokens--
		}
	}
	for _, i := range c.order {
		if tokens > 0 && flex[i] && c.tgt[i] == c.floor[i] {
			c.tgt[i]++
			tokens--
		}
	}
	for i := range m {
		for _, e := range g.out[3+i] {
			if k := g.to[e] - 3 - m; k >= 0 && g.flow(e) > 0 {
				// NB: two free partitions within a window can both flow
				// to i; fill deals with the second.
				if p := free[k]; c.valid(i, p, -1) {
					c.assign(p, i)
				}
			}
		}
	}
}

// flowGraph is a flow network with integer capacities, for matchFree.
// Edges leave each node in the order they were added.
type flowGraph struct {
	out            [][]int // edges out of each node
	to, cap, first []int   // per edge; edge e^1 is the reverse of e
}

func newFlow(nodes int) *flowGraph { return &flowGraph{out: make([][]int, nodes)} }

func (g *flowGraph) edge(u, v, c int) {
	g.out[u] = append(g.out[u], len(g.to))
	g.out[v] = append(g.out[v], len(g.to)+1)
	g.to = append(g.to, v, u)
	g.cap = append(g.cap, c, 0)
	g.first = append(g.first, c, 0)
}

// flow is the flow on edge e.
func (g *flowGraph) flow(e int) int { return g.first[e] - g.cap[e] }

// maxFlow pushes a maximum flow from s to t along shortest augmenting paths
// (Edmonds–Karp), exploring edges in a fixed order.
func (g *flowGraph) maxFlow(s, t int) {
	prev := make([]int, len(g.out)) // edge into each node on the path
	queue := make([]int, 0, len(g.out))
	for {
		for i := range prev {
			prev[i] = -1
		}
		queue = append(queue[:0], s)
		for i := 0; i < len(queue) && prev[t] < 0; i++ {
			u := queue[i]
			for _, e := range g.out[u] {
				if v := g.to[e]; g.cap[e] > 0 && v != s && prev[v] < 0 {
					prev[v] = e
					queue = append(queue, v)
				}
			}
		}
		if prev[t] < 0 {
			return
		}
		push := int(^uint(0) >> 1)
		for v := t; v != s; v = g.to[prev[v]^1] {
			push = min(push, g.cap[prev[v]])
		}
		for v := t; v != s; v = g.to[prev[v]^1] {
			g.cap[prev[v]] -= push
			g.cap[prev[v]^1] += push
		}
	}
}

// fill gives every free partition an owner, most constrained partition
// first: the one with the fewest members below their share that could own
// it without a repeat (ties: lowest index). On an empty ring this walks
// the partitions in order and deals them round-robin by need.
//
// NB: the count of candidates of a free partition only falls as fill goes
// on, so a heap with stale entries skipped on pop keeps this
// O(F log F + M*F*N) for F free partitions and M members.
func (c *claimer) fill() {
	if m := len(c.cnt); m <= maxAdjMembers {
		c.adj = make([]int, m*m)
		for p, x := range c.own {
			if x >= 0 {
				c.adjoin(x, p) // NB: counts each pair twice; only order matters
			}
		}
	}
	k := make([]int, c.q) // candidates of free partitions
	var h candHeap
	deficit := 0
	for x := range c.cnt {
		if c.cnt[x] < c.tgt[x] {
			deficit++
		}
	}
	for p, x := range c.own {
		if x < 0 {
			k[p] = deficit - c.presentDeficit(p)
			h = append(h, cand{k[p], p})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		e := heap.Pop(&h).(cand)
		p := e.p
		if c.own[p] >= 0 || e.k != k[p] {
			continue // filled, or stale
		}
		x := c.chooseFor(p)
		was := c.cnt[x] < c.tgt[x]
		c.assign(p, x)
		if c.adj != nil {
			c.adjoin(x, p)
		}
		if !was {
			continue
		}
		if c.cnt[x] < c.tgt[x] {
			// x is now near the free partitions around p.
			c.buf = c.window(c.buf[:0], p)
			for _, s := range c.buf {
				if c.own[s] < 0 && c.conflicts(x, s, p) == 0 {
					k[s]--
					heap.Push(&h, cand{k[s], s})
				}
			}
			continue
		}
		// x reached its share: it is no longer a candidate anywhere.
		for s, y := range c.own {
			if y < 0 && c.conflicts(x, s, p) == 0 {
				k[s]--
				heap.Push(&h, cand{k[s], s})
			}
		}
	}
}

// cand is a free partition and its number of candidate owners.
type cand struct{ k, p int }

// candHeap orders free partitions by fewest candidates, then index.
type candHeap []cand

func (h candHeap) Len() int { return len(h) }
func (h candHeap) Less(i, j int) bool {
	return h[i].k < h[j].k || h[i].k == h[j].k && h[i].p < h[j].p
}
func (h candHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)   { *h = append(*h, x.(cand)) }
func (h *candHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// presentDeficit counts distinct members below their share that own a
// partition within distance n-1 of p.
func (c *claimer) presentDeficit(p int) int {
	c.buf = c.window(c.buf[:0], p)
	k := 0
	for i, r := range c.buf {
		x := c.own[r]
		if x < 0 || c.cnt[x] >= c.tgt[x] || slices.ContainsFunc(c.buf[:i], func(s int) bool { return c.own[s] == x }) {
			continue
		}
		k++
	}
	return k
}

// chooseFor picks the owner of free partition p: the neediest member below
// its share that can own p without a repeat (among equally needy ones, the
// one least often near p's neighbours so far); failing that (feasible case)
// the member least above its share that can, to be rebalanced by steal;
// failing that the member below its share with the least closeness.
func (c *claimer) chooseFor(p int) int {
	best, bestScore := -1, 0
	for x := range c.cnt {
		if c.cnt[x] >= c.tgt[x] || !c.valid(x, p, -1) {
			continue
		}
		if best < 0 {
			best, bestScore = x, -1 // score computed when needed
			continue
		}
		switch k := c.need(x, best); {
		case k > 0:
			best, bestScore = x, -1
		case k == 0 && c.adj != nil:
			// Equally needy: prefer the member that has been near the
			// owners around p least often, so that successors vary and a
			// later leaver's partitions can go to many members.
			if bestScore < 0 {
				bestScore = c.adjacency(best, p)
			}
			if s := c.adjacency(x, p); s < bestScore {
				best, bestScore = x, s
			}
		}
	}
	if best >= 0 {
		return best
	}
	if c.windows() {
		for x := range c.cnt {
			if c.valid(x, p, -1) && (best < 0 || c.cnt[x]-c.tgt[x] < c.cnt[best]-c.tgt[best]) {
				best = x
			}
		}
		if best >= 0 {
			return best
		}
	}
	bestK := 0
	for x := range c.cnt {
		if c.cnt[x] >= c.tgt[x] {
			continue
		}
		k := c.closeness(x, p, -1)
		if best < 0 || k < bestK || k == bestK && c.higher(x, best) {
			best, bestK = x, k
		}
	}
	return best
}

// distances sets c.dist[p] to the cyclic distance from p to the nearest
// partition of x (q if x owns none).
func (c *claimer) distances(x int) {
	d := c.q
	for range 2 {
		for p := range c.q {
			if c.own[p] == x {
				d = 0
			} else if d < c.q {
				d++
			}
			c.dist[p] = d
		}
	}
	for range 2 {
		for p := c.q - 1; p >= 0; p-- {
			if c.own[p] == x {
				d = 0
			} else if d < c.q {
				d++
			}
			c.dist[p] = min(c.dist[p], d)
		}
	}
}

// steal moves partitions from members above their share to members below
// it, neediest first, along the cheapest chain (see chain). If there is no
// chain, or (when distinct windows are infeasible) only one that costs
// extra moves, the member takes a partition of a member above its share
// making as few repeats as it can (see leastClose).
func (c *claimer) steal() {
	for {
		x := c.neediest()
		if x < 0 {
			return
		}
		limit := 1 // no extra moves
		if c.windows() {
			limit = c.q
		}
		if c.chain(x, limit) {
			continue
		}
		c.assign(c.leastClose(x), x)
	}
}

// leastClose returns the partition that x should take from a member above
// its share when every choice makes a repeat: the one with (1) the least
// closeness, (2) the fewest moves, (3) the farthest from x's partitions,
// up to the ideal spacing Q/share, (4) whose owner is most above its
// share, (5) the lowest index.
func (c *claimer) leastClose(x int) int {
	c.distances(x)
	ideal := max(1, c.q/max(1, c.tgt[x]))
	best, bestK, bestCost, bestDist, bestSur := -1, 0, 0, 0, 0
	for p, y := range c.own {
		if y == x || c.cnt[y] <= c.tgt[y] {
			continue
		}
		k, cost, dist, sur := c.closeness(x, p, -1), c.moveCost(p, x), min(c.dist[p], ideal), c.cnt[y]-c.tgt[y]
		better := best < 0
		switch {
		case better:
		case k != bestK:
			better = k < bestK
		case cost != bestCost:
			better = cost < bestCost
		case dist != bestDist:
			better = dist > bestDist
		case sur != bestSur:
			better = sur > bestSur
		}
		if better {
			best, bestK, bestCost, bestDist, bestSur = p, k, cost, dist, sur
		}
	}
	return best
}

// chain finds the cheapest chain x ← y1 ← y2 ← … ← yk in which x takes a
// partition of y1, y1 one of y2, and so on, each without a repeat, and only
// yk is above its share; then it makes those moves, so that x gains one
// partition, yk loses one and the others keep their counts. A link costs
// one move if it moves a partition from its original owner and none if
// the partition had moved already (or returns home). It is Dijkstra's
// search over members; among equally cheap members it settles first those
// above their share, then those whose link partition lies farther from
// the taker's partitions (up to the ideal spacing Q/share, so that a
// joining member's partitions spread evenly), then those most above their
// share, then lower indexes. Each link takes, from its member, the
// partition that costs least, then lies farthest, then has the lowest
// index. It reports whether it found a chain costing at most limit.
func (c *claimer) chain(x, limit int) bool {
	m := len(c.cnt)
	type link struct {
		cost, prev, via, dist int // dist: spread score of via for prev
		done                  bool
	}
	ls := make([]link, m)
	for i := range ls {
		ls[i].cost = -1
	}
	ls[x].cost = 0
	best := make([]int, m)
	bestDist := make([]int, m)
	for {
		a := -1
		for b := range m {
			l := &ls[b]
			if l.done || l.cost < 0 {
				continue
			}
			if a < 0 {
				a = b
				continue
			}
			la := &ls[a]
			sb, sa := c.cnt[b] > c.tgt[b], c.cnt[a] > c.tgt[a]
			switch {
			case l.cost != la.cost:
				if l.cost < la.cost {
					a = b
				}
			case sb != sa:
				if sb {
					a = b
				}
			case l.dist != la.dist:
				if l.dist > la.dist {
					a = b
				}
			case c.cnt[b]-c.tgt[b] > c.cnt[a]-c.tgt[a]:
				a = b
			}
		}
		if a < 0 || ls[a].cost > limit {
			return false
		}
		ls[a].done = true
		if a != x && c.cnt[a] > c.tgt[a] {
			for b := a; b != x; b = ls[b].prev {
				c.assign(ls[b].via, ls[b].prev)
			}
			return true
		}
		// The best partition for a to take from each member, by take's
		// order restricted to one owner: cost, then spread, then index.
		c.distances(a)
		ideal := max(1, c.q/max(1, c.tgt[a]))
		for b := range best {
			best[b] = -1
		}
		for p, b := range c.own {
			if b < 0 || b == a || ls[b].done || !c.valid(a, p, -1) {
				continue
			}
			d := min(c.dist[p], ideal)
			if q := best[b]; q < 0 || c.moveCost(p, a) < c.moveCost(q, a) ||
				c.moveCost(p, a) == c.moveCost(q, a) && d > bestDist[b] {
				best[b], bestDist[b] = p, d
			}
		}
		for b, p := range best {
			if p < 0 {
				continue
			}
			k := ls[a].cost + max(0, c.moveCost(p, a))
			if l := &ls[b]; l.cost < 0 || k < l.cost || k == l.cost && bestDist[b] > l.dist {
				*l = link{cost: k, prev: a, via: p, dist: bestDist[b]}
			}
		}
	}
}

// repair removes repeats with cycles of moves. For a partition p of x that
// repeats, it gives p to a member y that can own it, then lets x take a
// partition along the cheapest chain (see chain), which ends at y since
// every other member holds its share: each member of the cycle gains one
// partition and loses one, and no move makes a repeat, so the number of
// repeated pairs falls. Among the members y it takes the one that leaves
// the fewest moved partitions, then the lowest index. It stops when no
// repeat is left or none can be removed this way.
func (c *claimer) repair() {
	saveOwn, saveCnt := make([]int, c.q), make([]int, len(c.cnt))
	bestOwn := make([]int, c.q)
	for {
		progress := false
		for p, x := range c.own {
			if c.conflicts(x, p, -1) == 0 {
				continue
			}
			copy(saveOwn, c.own)
			copy(saveCnt, c.cnt)
			best := -1
			for y := range c.cnt {
				if y == x || !c.valid(y, p, -1) {
					continue
				}
				c.assign(p, y)
				if c.chain(x, c.q) {
					if m := c.moved(); best < 0 || m < best {
						best = m
						copy(bestOwn, c.own)
					}
				}
				copy(c.own, saveOwn)
				copy(c.cnt, saveCnt)
			}
			if best >= 0 {
				copy(c.own, bestOwn)
				copy(c.cnt, saveCnt) // a cycle keeps every count
				progress = true
				break
			}
		}
		if !progress {
			return
		}
	}
}

// moved counts partitions whose owner is not their original one.
func (c *claimer) moved() int {
	k := 0
	for p, x := range c.own {
		if x != c.orig[p] {
			k++
		}
	}
	return k
}

// Parameters of anneal, tuned on joins and leaves of 4 to 7 members with
// weights 1..3, N = 3, Q = 64..1024.
const (
	annealSteps    = 200 // proposals per partition
	annealPenalty  = 5   // price of a repeated pair, in moves
	annealMaxShift = 16  // an uphill step of d is taken with probability 2^(-d*s), s: 1 → 1+annealMaxShift
)

// anneal improves the table by exchanging the owners of two partitions at
// a time, which keeps every share: simulated annealing with a fixed seed,
// so it is deterministic. An exchange that adds a repeated pair is never
// made; one that removes a repeat, or adds no move, always is; one that
// adds d moves is made with probability 2^(-d*s), s rising from 1 to 9
// over annealSteps*Q proposals. Half the proposals send a moved partition
// back to its original owner, in exchange for one of that owner's
// partitions. anneal leaves the table without repeats that made the
// fewest moves among those it saw and reports whether it saw one; if it
// saw none, the table has no more repeats than before.
func (c *claimer) anneal() bool {
	m := len(c.cnt)
	pos := make([][]int, m) // pos[x]: partitions of x
	at := make([]int, c.q)  // at[p]: index of p in pos[own[p]]
	var bad []int           // partitions in a repeated pair
	badAt := make([]int, c.q)
	pairs, moved := 0, 0
	for p, x := range c.own {
		at[p] = len(pos[x])
		pos[x] = append(pos[x], p)
		badAt[p] = -1
		if k := c.conflicts(x, p, -1); k > 0 {
			pairs += k
			badAt[p] = len(bad)
			bad = append(bad, p)
		}
		moved += c.movedAt(p)
	}
	pairs /= 2
	// recheck updates bad for the partitions whose repeats may have
	// changed when p changed owner.
	var near []int
	recheck := func(p int) {
		near = append(c.window(near[:0], p), p)
		for _, s := range near {
			isBad := c.conflicts(c.own[s], s, -1) > 0
			switch i := badAt[s]; {
			case isBad && i < 0:
				badAt[s] = len(bad)
				bad = append(bad, s)
			case !isBad && i >= 0:
				last := bad[len(bad)-1]
				bad[i], badAt[last] = last, i
				bad = bad[:len(bad)-1]
				badAt[s] = -1
			}
		}
	}
	best := -1
	bestOwn := slices.Clone(c.own)
	if pairs == 0 {
		best = moved
	}
	rng := splitmix(0x9e3779b97f4a7c15)
	steps := annealSteps * c.q
	for i := 0; i < steps && !(pairs == 0 && moved == c.minMoved); i++ {
		var p, r int
		switch coin := rng.next(); {
		case len(bad) > 0 && coin&1 == 0:
			// Move a repeat away.
			p = bad[rng.next()%uint64(len(bad))]
			r = int(rng.next() % uint64(c.q))
		default:
			p = int(rng.next() % uint64(c.q))
			if h := c.orig[p]; h >= 0 && h != c.own[p] && len(pos[h]) > 0 && coin&2 == 0 {
				// Send p home.
				r = pos[h][rng.next()%uint64(len(pos[h]))]
			} else {
				r = int(rng.next() % uint64(c.q))
			}
		}
		x, y := c.own[p], c.own[r]
		if x == y {
			continue
		}
		dp := -c.conflicts(x, p, -1) - c.conflicts(y, r, -1)
		dm := -c.movedAt(p) - c.movedAt(r)
		c.own[p], c.own[r] = y, x
		dp += c.conflicts(y, p, -1) + c.conflicts(x, r, -1)
		dm += c.movedAt(p) + c.movedAt(r)
		d := annealPenalty*dp + dm
		shift := uint64(max(d, 0)) * (1 + annealMaxShift*uint64(i)/uint64(steps))
		if d > 0 && (shift >= 32 || rng.next()&(1<<shift-1) != 0) {
			c.own[p], c.own[r] = x, y // reject
			continue
		}
		pos[x][at[p]], pos[y][at[r]] = r, p
		at[p], at[r] = at[r], at[p]
		pairs, moved = pairs+dp, moved+dm
		if dp != 0 || len(bad) > 0 {
			recheck(p)
			recheck(r)
		}
		if pairs == 0 && (best < 0 || moved < best) {
			best = moved
			copy(bestOwn, c.own)
		}
	}
	if best >= 0 {
		copy(c.own, bestOwn)
	}
	return best >= 0
}

// untangle removes repeated owners within windows without changing any
// share or adding a move: a deterministic simulated annealing (fixed seed)
// over exchanges of two partitions' owners, where an exchange that would
// add a move is never made. Such exchanges choose which partitions a
// member gives up and where the moved ones go: half the proposals send a
// moved partition back to its original owner in exchange for another of
// that owner's partitions. An exchange that adds d repeated pairs is made
// with probability 2^(-d*s), s rising from 1 to 1+annealMaxShift. It
// leaves the table with the fewest repeated pairs it saw.
func (c *claimer) untangle() {
	m := len(c.cnt)
	pos := make([][]int, m) // pos[x]: partitions of x
	at := make([]int, c.q)  // at[p]: index of p in pos[own[p]]
	pairs := 0
	for p, x := range c.own {
		at[p] = len(pos[x])
		pos[x] = append(pos[x], p)
		pairs += c.conflicts(x, p, -1)
	}
	pairs /= 2
	best, bestOwn := pairs, slices.Clone(c.own)
	rng := splitmix(0x2545f4914f6cdd1d)
	steps := annealSteps * c.q
	for i := 0; i < steps && best > 0; i++ {
		coin := rng.next()
		p := int(rng.next() % uint64(c.q))
		var r int
		if h := c.orig[p]; h >= 0 && h != c.own[p] && len(pos[h]) > 0 && coin&1 == 0 {
			r = pos[h][rng.next()%uint64(len(pos[h]))]
		} else {
			r = int(rng.next() % uint64(c.q))
		}
		x, y := c.own[p], c.own[r]
		if x == y {
			continue
		}
		dm := -c.movedAt(p) - c.movedAt(r)
		dp := -c.conflicts(x, p, -1) - c.conflicts(y, r, -1)
		c.own[p], c.own[r] = y, x
		dm += c.movedAt(p) + c.movedAt(r)
		dp += c.conflicts(y, p, -1) + c.conflicts(x, r, -1)
		shift := uint64(max(dp, 0)) * (1 + annealMaxShift*uint64(i)/uint64(steps))
		if dm > 0 || dp > 0 && (shift >= 32 || rng.next()&(1<<shift-1) != 0) {
			c.own[p], c.own[r] = x, y // reject
			continue
		}
		pos[x][at[p]], pos[y][at[r]] = r, p
		at[p], at[r] = at[r], at[p]
		pairs += dp
		if pairs < best {
			best = pairs
			copy(bestOwn, c.own)
		}
	}
	copy(c.own, bestOwn)
}

// movedAt is 1 if partition p is not with its original owner, else 0.
func (c *claimer) movedAt(p int) int {
	if c.own[p] != c.orig[p] {
		return 1
	}
	return 0
}

// splitmix is the SplitMix64 generator: small, fast and fixed forever, so
// Claim's output never depends on the Go version.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// relayout replaces the table by a fresh layout with the same shares and no
// repeats (possible whenever feasible), rotated to keep as many current
// owners as possible.
//
// The layout cuts the ring into g = Q/n blocks of consecutive partitions,
// each of size Q/g or Q/g+1 (so at least n), and deals members, each
// repeated share times, row by row: row i holds the i-th partition of
// every block (the last row only of the larger blocks). A member's copies
// are consecutive in this order, so they fall in different blocks, at least
// one block apart; members whose share is exactly g go first so that they
// fill whole rows. Hence two partitions of one member are at least n apart.
func (c *claimer) relayout() {
	g := c.q / c.n
	base, extra := c.q/g, c.q%g
	start := make([]int, g+1)
	for b := range g {
		size := base
		if b < extra {
			size++
		}
		start[b+1] = start[b] + size
	}
	order := make([]int, len(c.tgt))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if fa, fb := c.tgt[a] == g, c.tgt[b] == g; fa != fb {
			return boolOrder(fa, fb)
		}
		return cmp.Compare(c.tgt[b], c.tgt[a])
	})
	layout := make([]int, 0, c.q)
	k := 0
	for _, x := range order {
		for range c.tgt[x] {
			row, b := k/g, k%g
			layout = append(layout, start[b]+row)
			k++
		}
	}
	fresh := make([]int, c.q)
	k = 0
	for _, x := range order {
		for range c.tgt[x] {
			fresh[layout[k]] = x
			k++
		}
	}
	// keep[s] counts partitions that keep their owner if fresh is rotated
	// by s (fresh[i] moves to (i+s)%q).
	keep := make([]int, c.q)
	pos := make([][]int, len(c.tgt))
	for i, x := range fresh {
		pos[x] = append(pos[x], i)
	}
	for p, x := range c.orig {
		if x < 0 {
			continue
		}
		for _, i := range pos[x] {
			keep[(p-i+c.q)%c.q]++
		}
	}
	s := 0
	for i, k := range keep {
		if k > keep[s] {
			s = i
		}
	}
	for i, x := range fresh {
		c.own[(i+s)%c.q] = x
	}
	for x := range c.cnt {
		c.cnt[x] = len(pos[x])
	}
}
