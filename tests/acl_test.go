package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// aclPy logs in as argv[2]/argv[3] at host:port argv[1] with redis-py and
// prints what a user limited to its own keys sees: its key written and
// read, then the error class and text of FLUSHALL, CONFIG GET and a GET
// of another key.
const aclPy = `
import sys
import redis
host, port = sys.argv[1].rsplit(":", 1)
r = redis.Redis(host=host, port=int(port), username=sys.argv[2], password=sys.argv[3], decode_responses=True)
print("set", r.set("sess:py", "1"), r.get("sess:py"))
for f in (lambda: r.flushall(), lambda: r.config_get("maxmemory"), lambda: r.get("other")):
    try:
        print("ok", f())
    except redis.exceptions.ResponseError as e:
        print(type(e).__name__, e)
`

// TestACLClients: a lone `dynakv server` with --requirepass and
// --aclfile; redis-cli --user/--pass and redis-py (username=, password=)
// log in as the file's application user, use its keys and get NOPERM for
// FLUSHALL, CONFIG and other keys; ACL SAVE keeps a user created with
// ACL SETUSER across a restart.
func TestACLClients(t *testing.T) {
	heavy(t)
	file := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(file, []byte("user app on >x ~sess:* resetchannels -@all +@read +@write -@dangerous\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := StartServer(t, "n1", "--requirepass", "adminpw", "--aclfile", file)
	admin := p.Client(t, func(o *redis.Options) { o.Password = "adminpw" })
	ctx := ctxT(t)
	if err := admin.Do(ctx, "ACL", "SETUSER", "reporter", "on", ">r", "~report:*", "+@read").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SAVE").Err(); err != nil {
		t.Fatal(err)
	}

	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Log("redis-cli not installed (apt-get install redis-tools): its part skipped")
	} else {
		_, port, _ := strings.Cut(p.Addr, ":")
		for _, tc := range []struct{ cmd, want string }{
			{"SET sess:1 alice", "OK"},
			{"GET sess:1", "alice"},
			{"FLUSHALL", "NOPERM this user has no permissions to run the 'flushall' command"},
			{"CONFIG GET maxmemory", "NOPERM this user has no permissions to run the 'config|get' command"},
			{"GET other", "NOPERM this user has no permissions to access one of the keys used as arguments"},
			{"MSET sess:2 b other c", "NOPERM this user has no permissions to access one of the keys used as arguments"},
		} {
			args := append([]string{"-p", port, "--user", "app", "--pass", "x", "--no-auth-warning"}, strings.Fields(tc.cmd)...)
			out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput()
			if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
				t.Errorf("redis-cli --user app %s: %q, %v; want %q", tc.cmd, got, err, tc.want)
			}
		}
	}

	if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
		t.Logf("redis-py not importable by %s (apt-get install python3-redis): its part skipped: %v %s", systemPython, err, out)
	} else {
		out, err := exec.CommandContext(ctx, systemPython, "-c", aclPy, p.Addr, "app", "x").CombinedOutput()
		want := "set True 1\n" +
			"NoPermissionError this user has no permissions to run the 'flushall' command\n" +
			"NoPermissionError this user has no permissions to run the 'config|get' command\n" +
			"NoPermissionError this user has no permissions to access one of the keys used as arguments\n"
		if err != nil || string(out) != want {
			t.Errorf("redis-py as app: %v\n%s\nwant\n%s", err, out, want)
		}
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	p.Restart()
	ctx = ctxT(t)
	rep := p.Client(t, func(o *redis.Options) { o.Username, o.Password = "reporter", "r" })
	if err := rep.Get(ctx, "report:1").Err(); err != redis.Nil {
		t.Errorf("reporter after restart: GET report:1: %v", err)
	}
	if err := rep.Set(ctx, "report:1", "x", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("reporter after restart: SET: %v", err)
	}
}
