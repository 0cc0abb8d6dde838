package ring

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	rng := testRand(t)
	s, err := New(Config{Partitions: 64, Replicas: 3}, []Member{
		{ID: "n1", Addr: "127.0.0.1:6379", GossipAddr: "127.0.0.1:7946", Weight: 2},
		{ID: "n2", Addr: "127.0.0.1:6380", GossipAddr: "127.0.0.1:7947", Weight: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		b := s.Encode()
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode()): %v\n%s", err, b)
		}
		if !d.Equal(s) || !bytes.Equal(d.Encode(), b) || !slicesEqual(d.Owners(), s.Owners()) || d.Version() != s.Version() {
			t.Fatalf("round trip changed the State:\n%s\n%s", b, d.Encode())
		}
		switch id := node(3 + rng.IntN(6)); {
		case rng.IntN(3) > 0:
			if ns, _, err := s.Join(Member{ID: id, Addr: "h:" + string(id), Weight: 1 + rng.IntN(3)}); err == nil {
				s = ns
			}
		case i%2 == 0:
			if ns, _, err := s.Leave(id); err == nil {
				s = ns
			}
		default:
			if ns, _, err := s.Forget(id); err == nil {
				s = ns
			}
		}
	}
}

func slicesEqual(a, b []NodeID) bool { return str(a) == str(b) }

func TestDecodeErrors(t *testing.T) {
	valid := `{"format":1,"version":7,"replicas":3,"members":[` +
		`{"id":"a","addr":"","gossip_addr":"","weight":1,"status":"joined"},` +
		`{"id":"b","addr":"","gossip_addr":"","weight":1,"status":"leaving"}],` +
		`"owners":[0,0]}`
	s, err := Decode([]byte(valid))
	if err != nil {
		t.Fatalf("Decode(valid): %v", err)
	}
	if s.Version() != 7 || s.Partitions() != 2 || str(s.Owners()) != "aa" {
		t.Errorf("decoded %s", s.Encode())
	}
	for _, tc := range []struct{ name, old, new string }{
		{"empty", valid, " "},
		{"garbage", valid, "\x00\xff{"},
		{"truncated", valid, valid[:len(valid)-5]},
		{"trailing data", `]}`, `]} {}`},
		{"unknown field", `"format":1`, `"format":1,"extra":0`},
		{"format", `"format":1`, `"format":2`},
		{"replicas", `"replicas":3`, `"replicas":0`},
		{"q=3", `[0,0]`, `[0,0,0]`},
		{"q=0", `[0,0]`, `[]`},
		{"owner out of range", `[0,0]`, `[0,2]`},
		{"negative owner", `[0,0]`, `[0,-1]`},
		{"owner overflow", `[0,0]`, `[0,99999999999]`},
		{"leaving owner", `[0,0]`, `[0,1]`},
		{"unsorted members", `"id":"b"`, `"id":"0"`},
		{"duplicate members", `"id":"b"`, `"id":"a"`},
		{"weight", `"weight":1,"status":"joined"`, `"weight":0,"status":"joined"`},
		{"status", `"leaving"`, `"gone"`},
		{"empty status", `"leaving"`, `""`},
		{"no joined member", `"joined"`, `"leaving"`},
		{"empty id", `"id":"a"`, `"id":""`},
		{"version type", `"version":7`, `"version":-7`},
		{"trailing brace", `]}`, `]}}`},
		{"trailing garbage", `]}`, `]}x`},
		{"two states", valid, valid + valid},
		{"null", valid, `null`},
		{"array", valid, `[1,2]`},
		{"null members", valid, `{"format":1,"version":1,"replicas":3,"members":null,"owners":[0]}`},
		{"no owners", valid, `{"format":1,"version":1,"replicas":3,"members":[{"id":"a","weight":1,"status":"joined"}]}`},
	} {
		in := strings.Replace(valid, tc.old, tc.new, 1)
		if in == valid {
			t.Fatalf("%s: replacement did not apply", tc.name)
		}
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrInvalidState) {
			t.Errorf("%s: Decode(%s) error %v, want ErrInvalidState", tc.name, in, err)
		}
	}
}

func TestNewer(t *testing.T) {
	a, _ := New(Config{Partitions: 8, Replicas: 3}, equal("AB"))
	b, _, _ := a.Join(Member{ID: "C", Weight: 1})
	c, _, _ := a.Join(Member{ID: "D", Weight: 1}) // concurrent with b
	if !Newer(b, a) || Newer(a, b) {
		t.Errorf("a higher version must win")
	}
	if Newer(b, c) == Newer(c, b) {
		t.Errorf("equal versions with different contents must be ordered one way")
	}
	if Newer(b, b.Clone()) || Newer(b, b) {
		t.Errorf("a State is not newer than an equal one")
	}
	if !Newer(a, nil) || Newer(nil, a) || Newer(nil, nil) {
		t.Errorf("nil handling")
	}
	// Merge converges whatever the order of arrival.
	states := []*State{a, b, c, a.Clone(), nil}
	var want *State
	for _, s := range states {
		want = Merge(want, s)
	}
	for i := range states {
		var got *State
		for j := range states {
			got = Merge(got, states[(i+j)%len(states)])
		}
		for j := len(states) - 1; j >= 0; j-- {
			got = Merge(states[(i+j)%len(states)], got)
		}
		if !got.Equal(want) {
			t.Errorf("Merge depends on order")
		}
	}
	if !want.Equal(b) && !want.Equal(c) {
		t.Errorf("Merge chose an older State")
	}
}

func FuzzDecode(f *testing.F) {
	s, _ := New(Config{Partitions: 8, Replicas: 3}, []Member{
		{ID: "n1", Addr: "127.0.0.1:6379", GossipAddr: "127.0.0.1:7946", Weight: 1},
		{ID: "n2", Addr: "127.0.0.1:6380", Weight: 2},
		{ID: "n3", Weight: 1},
	})
	l, _, _ := s.Leave("n3")
	f.Add(s.Encode())
	f.Add(l.Encode())
	f.Add([]byte(`{"format":1,"version":1,"replicas":1,"members":[{"id":"a","weight":1,"status":"joined"}],"owners":[0]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"owners":[0,0,0,0]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidState) {
				t.Fatalf("Decode error %v does not wrap ErrInvalidState", err)
			}
			return
		}
		// A decoded State is valid and its encoding is canonical.
		e := s.Encode()
		d, err := Decode(e)
		if err != nil || !d.Equal(s) || !bytes.Equal(d.Encode(), e) {
			t.Fatalf("re-decoding %s: %v", e, err)
		}
		if _, err := build(s.Version(), s.Replicas(), s.Members(), s.Owners()); err != nil {
			t.Fatalf("decoded State breaks an invariant: %v", err)
		}
		for p := range s.Partitions() {
			if list := s.PreferenceList(p, s.Replicas()); len(list) == 0 {
				t.Fatalf("empty preference list")
			}
		}
	})
}
