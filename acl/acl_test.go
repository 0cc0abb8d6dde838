package acl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/testseed"
)

// fakeCatalog is a small command table with Redis 7.0's categories.
type fakeCatalog map[string]Command

func (f fakeCatalog) Lookup(name string) (Command, bool) { c, ok := f[name]; return c, ok }
func (f fakeCatalog) Commands() []Command {
	out := make([]Command, 0, len(f))
	for _, c := range f {
		out = append(out, c)
	}
	return out
}

var testCatalog = func() fakeCatalog {
	f := fakeCatalog{}
	add := func(name, cats, access string, container bool) {
		a, _ := ParseAccess(access)
		f[name] = Command{Name: name, Categories: ParseCategories(cats), Access: a, Container: container}
	}
	add("get", "read string fast", "R", false)
	add("set", "write string slow", "RW", false)
	add("mset", "write string slow", "W", false)
	add("del", "keyspace write slow", "W", false)
	add("exists", "keyspace read fast", "", false)
	add("flushall", "keyspace write slow dangerous", "", false)
	add("hset", "write hash fast", "W", false)
	add("hget", "read hash fast", "R", false)
	add("select", "fast connection", "", false)
	add("publish", "pubsub fast", "", false)
	add("psubscribe", "pubsub slow", "", false)
	add("config", "slow", "", true)
	add("config|get", "admin slow dangerous", "", false)
	add("config|set", "admin slow dangerous", "", false)
	return f
}()

func mustApply(t *testing.T, ops ...string) *Rules {
	t.Helper()
	r, err := (&Rules{}).Apply(testCatalog, ops...)
	if err != nil {
		t.Fatalf("Apply(%q): %v", ops, err)
	}
	return r
}

func TestApplyDescribe(t *testing.T) {
	h := HashPassword([]byte("x"))
	for _, tc := range []struct {
		ops  string
		want string
	}{
		{"", "off resetchannels -@all"},
		{"on >x ~sess:* +@read +@write", "on #" + h + " ~sess:* resetchannels -@all +@read +@write"},
		{"+@read -get +get", "off resetchannels -@all +@read"},
		{"+@read +@write -@read", "off resetchannels -@all +@write"},
		{"+get -set +@read", "off resetchannels -@all +@read"},
		{"+@all -flushall -@dangerous +config|get", "off resetchannels +@all -@dangerous +config|get"},
		{"-@all +config +config|get -config|set", "off resetchannels -@all +config -config|set"},
		{"+config|get -config", "off resetchannels -@all"},
		{"allcommands -get nocommands +set", "off resetchannels -@all +set"},
		{"+select|0", "off resetchannels -@all +select|0"},
		{"+select|0 +select", "off resetchannels -@all +select"},
		{"resetkeys ~a ~*", "off ~* resetchannels -@all"},
		{"nopass >x", "off #" + h + " resetchannels -@all"},
		{">x nopass", "off nopass resetchannels -@all"},
		{">x <x", "off resetchannels -@all"},
		{"%R~a %W~b %RW~c %Rw~d", "off %R~a %W~b ~c ~d resetchannels -@all"},
		{"%R~a %W~a", "off ~a resetchannels -@all"},
		{"&ch* allchannels", "off &* -@all"},
		{"on >x ~* &* +@all reset", "off sanitize-payload resetchannels -@all"},
		{"ON NOPASS ALLKEYS ALLCHANNELS ALLCOMMANDS", "on nopass ~* &* +@all"},
	} {
		r := mustApply(t, strings.Fields(tc.ops)...)
		if got := r.Describe(); got != tc.want {
			t.Errorf("%q: Describe() = %q, want %q", tc.ops, got, tc.want)
		}
	}
	if got := Default("").Describe(); got != "on nopass ~* &* +@all" {
		t.Errorf("Default(\"\") = %q", got)
	}
	if got := Default("x").Describe(); got != "on #"+h+" ~* &* +@all" {
		t.Errorf("Default(x) = %q", got)
	}
}

func TestApplyErrors(t *testing.T) {
	for _, tc := range []struct {
		ops  string
		bad  string
		want error
	}{
		{"+foo", "+foo", ErrUnknownCommand},
		{"+@foo", "+@foo", ErrUnknownCommand},
		{"+config|foo", "+config|foo", ErrUnknownCommand},
		{"-select|0", "-select|0", ErrUnknownCommand},
		{"~a allkeys ~b", "~b", ErrKeyAfterAll},
		{"~* %R~b", "%R~b", ErrKeyAfterAll},
		{"&a allchannels &b", "&b", ErrChannelAfterAll},
		{"<nope", "<nope", ErrNoSuchPassword},
		{"!" + strings.Repeat("0", 64), "!" + strings.Repeat("0", 64), ErrNoSuchPassword},
		{"#abc", "#abc", ErrBadHash},
		{"#" + strings.Repeat("A", 64), "#" + strings.Repeat("A", 64), ErrBadHash},
		{"bogus", "bogus", ErrSyntax},
		{"%X~a", "%X~a", ErrSyntax},
		{"%~a", "%~a", ErrSyntax},
		{"%R", "%R", ErrSyntax},
		{"(~x +get)", "(~x", ErrSyntax},
	} {
		orig := mustApply(t, "on", "+get")
		_, err := orig.Apply(testCatalog, strings.Fields(tc.ops)...)
		var re *RuleError
		if !errors.As(err, &re) || !errors.Is(err, tc.want) || re.Rule != tc.bad {
			t.Errorf("%q: err = %v, want %v at %q", tc.ops, err, tc.want, tc.bad)
		}
		if orig.Describe() != "off resetchannels -@all +get" && orig.Describe() != "on resetchannels -@all +get" {
			t.Errorf("%q: original rules changed: %s", tc.ops, orig.Describe())
		}
	}
	err := (&RuleError{Rule: "+foo", Err: ErrUnknownCommand}).Error()
	if err != "Error in ACL SETUSER modifier '+foo': Unknown command or category name in ACL" {
		t.Errorf("RuleError text: %q", err)
	}
}

func req(name string, args ...string) Request {
	c := testCatalog[name]
	r := Request{Command: c}
	if len(args) > 0 {
		r.FirstArg = []byte(args[0])
	}
	for _, a := range args {
		if c.Name == "publish" || c.Name == "psubscribe" {
			r.Channels = append(r.Channels, []byte(a))
			r.ChannelPatterns = c.Name == "psubscribe"
			continue
		}
		if c.Access != 0 || c.Categories&Keyspace != 0 {
			r.Keys = append(r.Keys, []byte(a))
		}
	}
	return r
}

func TestCheck(t *testing.T) {
	app := "on >x ~sess:* +@read +@write -@dangerous"
	for _, tc := range []struct {
		rules string
		req   Request
		want  Denial // zero: allowed
	}{
		{app, req("get", "sess:1"), Denial{}},
		{app, req("get", "other"), Denial{ReasonKey, "other"}},
		{app, req("mset", "sess:1", "sess:2"), Denial{}},
		{app, req("mset", "sess:1", "foo"), Denial{ReasonKey, "foo"}},
		{app, req("flushall"), Denial{ReasonCommand, "flushall"}},
		{app, req("config|get", "maxmemory"), Denial{ReasonCommand, "config|get"}},
		{app, req("publish", "news"), Denial{ReasonCommand, "publish"}},
		{"+@read +@write ~sess:*", req("flushall"), Denial{}}, // Redis 7.0: flushall is @write
		{"+@all %R~r:* %W~w:*", req("get", "r:1"), Denial{}},
		{"+@all %R~r:* %W~w:*", req("get", "w:1"), Denial{ReasonKey, "w:1"}},
		{"+@all %R~r:* %W~w:*", req("set", "w:1"), Denial{ReasonKey, "w:1"}}, // SET may read (GET option)
		{"+@all %R~r:* %W~w:*", req("del", "w:1"), Denial{}},
		{"+@all %R~r:* %W~w:*", req("exists", "w:1"), Denial{}},
		{"+@all %R~r:* %W~w:*", req("exists", "x"), Denial{ReasonKey, "x"}},
		{"+config|get", req("config|get"), Denial{}},
		{"+config|get", req("config|set"), Denial{ReasonCommand, "config|set"}},
		{"+config -config|set", req("config|get"), Denial{}},
		{"+select|0", req("select", "0"), Denial{}},
		{"+select|0", req("select", "1"), Denial{ReasonCommand, "select"}},
		{"+@all &news:*", req("publish", "news:1"), Denial{}},
		{"+@all &news:*", req("publish", "sports"), Denial{ReasonChannel, "sports"}},
		{"+@all &news:*", req("psubscribe", "news:*"), Denial{}},
		{"+@all &news:*", req("psubscribe", "news:1*"), Denial{ReasonChannel, "news:1*"}},
		{"+@all allchannels", req("psubscribe", "x*"), Denial{}},
		{"+@all ~[ab]*", req("get", "bx"), Denial{}},
		{"+@all ~[ab]*", req("get", "cx"), Denial{ReasonKey, "cx"}},
	} {
		r := mustApply(t, strings.Fields(tc.rules)...)
		d, ok := r.Check(tc.req)
		if ok != (tc.want == Denial{}) || d != tc.want {
			t.Errorf("%q %s %q: got %v %v, want %v", tc.rules, tc.req.Command.Name, tc.req.Keys, d, ok, tc.want)
		}
	}
}

func TestDenialTexts(t *testing.T) {
	for _, tc := range []struct {
		d             Denial
		reply, dryrun string
	}{
		{Denial{ReasonCommand, "config|get"}, "NOPERM this user has no permissions to run the 'config|get' command", "This user has no permissions to run the 'config|get' command"},
		{Denial{ReasonKey, "foo"}, "NOPERM this user has no permissions to access one of the keys used as arguments", "This user has no permissions to access the 'foo' key"},
		{Denial{ReasonChannel, "other"}, "NOPERM this user has no permissions to access one of the channels used as arguments", "This user has no permissions to access the 'other' channel"},
	} {
		if got := tc.d.Reply(); got != tc.reply {
			t.Errorf("Reply() = %q, want %q", got, tc.reply)
		}
		if got := tc.d.DryRun(); got != tc.dryrun {
			t.Errorf("DryRun() = %q, want %q", got, tc.dryrun)
		}
	}
}

func TestTable(t *testing.T) {
	tb := NewTable(testCatalog, "")
	if u, err := tb.Authenticate("default", []byte("anything")); err != nil || u != tb.Default() {
		t.Fatalf("default nopass: %v %v", u, err)
	}
	tb = NewTable(testCatalog, "secret")
	if _, err := tb.Authenticate("default", []byte("nope")); !errors.Is(err, ErrWrongPass) {
		t.Fatalf("wrong default password: %v", err)
	}
	if _, err := tb.Authenticate("default", []byte("secret")); err != nil {
		t.Fatalf("default password: %v", err)
	}
	if err := tb.SetUser("app", ">x", "~sess:*", "+@read"); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Authenticate("app", []byte("x")); !errors.Is(err, ErrWrongPass) {
		t.Fatalf("disabled user logged in: %v", err)
	}
	u := tb.User("app")
	if err := tb.SetUser("app", "on", "+nosuch"); err == nil || u.Rules().On {
		t.Fatalf("a bad rule applied the good ones: %v %v", err, u.Rules().On)
	}
	if err := tb.SetUser("app", "on"); err != nil {
		t.Fatal(err)
	}
	if got, err := tb.Authenticate("app", []byte("x")); err != nil || got != u {
		t.Fatalf("app: %v %v", got, err)
	}
	if err := tb.SetUser("a b"); !errors.Is(err, ErrBadUsername) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := tb.DelUser("app", "default"); !errors.Is(err, ErrDeleteDefault) || tb.User("app") == nil {
		t.Fatalf("DelUser default: %v", err)
	}
	gone, err := tb.DelUser("app", "nosuch")
	if err != nil || len(gone) != 1 || gone[0] != u || !u.Deleted() || tb.User("app") != nil {
		t.Fatalf("DelUser: %v %v", gone, err)
	}
	if got := tb.Names(); len(got) != 1 || got[0] != "default" {
		t.Fatalf("Names() = %v", got)
	}
}

func TestGenPass(t *testing.T) {
	for bits, n := range map[int]int{1: 1, 5: 2, 256: 64, 4096: 1024} {
		if p := GenPass(bits); len(p) != n || strings.Trim(p, "0123456789abcdef") != "" {
			t.Errorf("GenPass(%d) = %q", bits, p)
		}
	}
}

func TestLog(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := NewLog(2)
	l.Add(LogEntry{Reason: ReasonKey, Context: "toplevel", Object: "k", Username: "app", Time: t0})
	l.Add(LogEntry{Reason: ReasonKey, Context: "toplevel", Object: "k", Username: "app", Time: t0.Add(59 * time.Second)})
	if e := l.Entries(-1); len(e) != 1 || e[0].Count != 2 || !e[0].Time.Equal(t0.Add(59*time.Second)) {
		t.Fatalf("grouping: %+v", e)
	}
	l.Add(LogEntry{Reason: ReasonCommand, Context: "toplevel", Object: "flushall", Username: "app", Time: t0.Add(60 * time.Second)})
	l.Add(LogEntry{Reason: ReasonKey, Context: "toplevel", Object: "k", Username: "app", Time: t0.Add(200 * time.Second)})
	e := l.Entries(-1)
	if len(e) != 2 || e[0].Object != "k" || e[0].Count != 1 || e[1].Object != "flushall" {
		t.Fatalf("bound and window: %+v", e)
	}
	if e := l.Entries(1); len(e) != 1 {
		t.Fatalf("Entries(1): %+v", e)
	}
	l.Reset()
	if e := l.Entries(-1); len(e) != 0 {
		t.Fatalf("after Reset: %+v", e)
	}
}

// TestSimplifyKeepsPermissions: random command rules, applied with
// Apply (which simplifies them) and appended raw, allow the same
// commands, first arguments included; and the simplified rules parse
// back (ACL LIST's line) to the same.
func TestSimplifyKeepsPermissions(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	ops := []string{"+get", "-get", "+set", "-set", "+@read", "-@read", "+@write", "-@write", "+@dangerous", "-@dangerous",
		"+config", "-config", "+config|get", "-config|get", "+config|set", "+select|0", "+select|1", "+select", "-select",
		"+@all", "-@all", "+@keyspace", "-@keyspace", "+flushall", "-flushall", "+@connection"}
	for round := range 2000 {
		n := rng.IntN(8)
		seq := make([]string, n)
		for i := range seq {
			seq[i] = ops[rng.IntN(len(ops))]
		}
		simple, err := (&Rules{}).Apply(testCatalog, seq...)
		if err != nil {
			t.Fatalf("round %d %q: %v", round, seq, err)
		}
		raw := &Rules{}
		for _, op := range seq {
			if err := raw.apply(testCatalog, op); err != nil {
				t.Fatal(err)
			}
		}
		back, err := (&Rules{}).Apply(testCatalog, strings.Fields(simple.Describe())...)
		if err != nil {
			t.Fatalf("round %d: %q does not parse back: %v", round, simple.Describe(), err)
		}
		for _, c := range testCatalog {
			for _, arg := range []string{"0", "1", "2"} {
				want := raw.scan(&c, []byte(arg))
				if got := simple.commandAllowed(&c, []byte(arg)); got != want {
					t.Fatalf("round %d %q → %q: %s %s allowed %v, want %v", round, seq, simple.CommandRules(), c.Name, arg, got, want)
				}
				if got := back.commandAllowed(&c, []byte(arg)); got != want {
					t.Fatalf("round %d %q → %q parsed back: %s %s allowed %v, want %v", round, seq, simple.CommandRules(), c.Name, arg, got, want)
				}
			}
		}
	}
}

// TestApplyManyRules: a SETUSER naming every command of a big catalog,
// twice, stays cheap (simplify is quadratic in passes, not cubic).
func TestApplyManyRules(t *testing.T) {
	big := fakeCatalog{}
	var ops []string
	for i := range 1000 {
		name := fmt.Sprintf("cmd%d", i)
		big[name] = Command{Name: name, Categories: Read}
		ops = append(ops, "+"+name, "-"+name)
	}
	r, err := (&Rules{}).Apply(big, append(ops, ops...)...)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.CommandRules(); got != "-@all" {
		t.Errorf("rules = %.80q", got)
	}
}
