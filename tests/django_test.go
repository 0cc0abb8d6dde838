package tests

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/internal/syncbuf"
)

// djangoPy drives a Django cache (django-redis's RedisCache, the backend
// Debian's python3-django-redis installs; Django 3.2 has no Redis cache
// of its own) at the redis:// URL argv[1] and prints what it saw as JSON:
//   - set_many of 20 keys (django-redis sends them in one MULTI/EXEC
//     pipeline) and get_many of them back;
//   - incr of one counter from 4 threads, 50 times each (django-redis's
//     incr is an EVAL of an EXISTS+INCRBY script);
//   - cache.lock (redis-py's Lock: SET NX PX, released by a Lua script)
//     taken, refused to a second holder while held, released, taken again;
//   - clear (FLUSHDB), after which no key is left.
const djangoPy = `
import json, sys, threading
import django
from django.conf import settings
settings.configure(CACHES={"default": {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": sys.argv[1],
    "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
}})
django.setup()
from django.core.cache import cache
out = {"django": django.get_version()}
items = {"item:%d" % i: {"n": i, "name": "thing %d" % i} for i in range(20)}
cache.set_many(items, timeout=300)
got = cache.get_many(list(items))
out["set_many"] = sum(1 for k, v in items.items() if got.get(k) == v)
cache.set("hits", 0, timeout=None)
def bump():
    for _ in range(50):
        cache.incr("hits")
ts = [threading.Thread(target=bump) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
out["incr"] = cache.get("hits")
lock = cache.lock("report", timeout=10)
out["lock_first"] = lock.acquire(blocking=False)
out["lock_second"] = cache.lock("report", timeout=10).acquire(blocking=False)
lock.release()
again = cache.lock("report", timeout=10)
out["lock_after_release"] = again.acquire(blocking=False)
again.release()
cache.clear()
out["after_clear"] = sum(1 for v in cache.get_many(list(items) + ["hits"]).values() if v is not None)
print(json.dumps(out))
`

// TestDjangoCache runs a Django cache backed by django-redis against a lone
// node and against one node of a 3-node cluster (issue 12's Django
// scenario): set_many reads back all 20 items, 200 concurrent incr from 4
// threads end at exactly 200, a held lock is refused to a second holder
// and can be taken again after release, and clear leaves no key.
func TestDjangoCache(t *testing.T) {
	if out, err := exec.Command(systemPython, "-c", "import django, django_redis").CombinedOutput(); err != nil {
		t.Skipf("Django with django-redis not importable by %s (apt-get install python3-django python3-django-redis): %v %s", systemPython, err, out)
	}
	t.Run("lone", func(t *testing.T) {
		p := StartServer(t, "n1")
		djangoScenario(t, p.Addr)
	})
	t.Run("cluster", func(t *testing.T) {
		heavy(t)
		procs := StartCluster(t, 3)
		djangoScenario(t, procs[1].Addr)
	})
}

func djangoScenario(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "-c", djangoPy, "redis://"+addr+"/0")
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("django: %v\n%s\n%s", err, out, strings.TrimSpace(stderr.String()))
	}
	var res struct {
		Django           string
		SetMany          int  `json:"set_many"`
		Incr             int  `json:"incr"`
		LockFirst        bool `json:"lock_first"`
		LockSecond       bool `json:"lock_second"`
		LockAfterRelease bool `json:"lock_after_release"`
		AfterClear       int  `json:"after_clear"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("django output %q: %v", out, err)
	}
	t.Logf("Django %s through %s: %s", res.Django, addr, strings.TrimSpace(string(out)))
	if res.SetMany != 20 {
		t.Errorf("set_many then get_many: %d of 20 items read back", res.SetMany)
	}
	if res.Incr != 200 {
		t.Errorf("incr from 4 threads × 50 = %d, want 200", res.Incr)
	}
	if !res.LockFirst || res.LockSecond || !res.LockAfterRelease {
		t.Errorf("lock: first %v (want true), second holder %v (want false), after release %v (want true)", res.LockFirst, res.LockSecond, res.LockAfterRelease)
	}
	if res.AfterClear != 0 {
		t.Errorf("clear left %d keys", res.AfterClear)
	}
}
