package ring

import (
	"fmt"
	"testing"
)

func BenchmarkSlot(b *testing.B) {
	for _, key := range []string{"foo", "user:1000:session:abcdef0123456789", "{user1000}.following"} {
		b.Run(fmt.Sprintf("len=%d", len(key)), func(b *testing.B) {
			k := []byte(key)
			b.SetBytes(int64(len(k)))
			for b.Loop() {
				Slot(k)
			}
		})
	}
}

func benchMembers(n int) []Member {
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = Member{ID: node(i), Weight: 1}
	}
	return ms
}

func BenchmarkPreferenceList(b *testing.B) {
	for _, nodes := range []int{3, 32, 128} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			s, err := New(DefaultConfig(), benchMembers(nodes))
			if err != nil {
				b.Fatal(err)
			}
			p := 0
			for b.Loop() {
				s.PreferenceList(p, 3)
				p = (p + 1) & 255
			}
		})
	}
}

func BenchmarkWalk(b *testing.B) {
	for _, nodes := range []int{3, 32, 128} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			s, _ := New(DefaultConfig(), benchMembers(nodes))
			p := 0
			for b.Loop() {
				s.Walk(p)
				p = (p + 1) & 255
			}
		})
	}
}

// BenchmarkClaim measures a new ring, a join and a leave, Q = 256 and
// 1024, N = 3.
func BenchmarkClaim(b *testing.B) {
	for _, q := range []int{256, 1024} {
		for _, nodes := range []int{8, 32} {
			ms := benchMembers(nodes)
			s, err := New(Config{Partitions: q, Replicas: 3}, ms)
			if err != nil {
				b.Fatal(err)
			}
			cur := s.Owners()
			b.Run(fmt.Sprintf("q=%d/nodes=%d/new", q, nodes), func(b *testing.B) {
				empty := make([]NodeID, q)
				for b.Loop() {
					Claim(empty, ms, 3)
				}
			})
			b.Run(fmt.Sprintf("q=%d/nodes=%d/join", q, nodes), func(b *testing.B) {
				joined := append(benchMembers(nodes), Member{ID: "new", Weight: 1})
				for b.Loop() {
					Claim(cur, joined, 3)
				}
			})
			b.Run(fmt.Sprintf("q=%d/nodes=%d/leave", q, nodes), func(b *testing.B) {
				left := benchMembers(nodes)[1:]
				for b.Loop() {
					Claim(cur, left, 3)
				}
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	s, _ := New(DefaultConfig(), benchMembers(32))
	e := s.Encode()
	b.SetBytes(int64(len(e)))
	for b.Loop() {
		if _, err := Decode(e); err != nil {
			b.Fatal(err)
		}
	}
}
