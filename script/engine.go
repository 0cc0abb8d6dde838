package script

import (
	"container/list"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

var (
	// ErrCompile reports a script body that does not compile; the
	// wrapping *CompileError carries Lua's message.
	ErrCompile = errors.New("script: compile error")
	// ErrNotBusy is Kill's error when no script has run past the time
	// limit.
	ErrNotBusy = errors.New("script: no script is busy")
	// ErrUnkillable is Kill's error when every busy script has called a
	// write command, so stopping it would leave half of its writes.
	ErrUnkillable = errors.New("script: busy script has written")
)

// CompileError is the error of a body that does not compile: Msg is
// Lua's message, "user_script:<line>: <what>".
type CompileError struct{ Msg string }

// Error returns the message, prefixed with "script: compile error: ".
func (e *CompileError) Error() string { return ErrCompile.Error() + ": " + e.Msg }

// Unwrap returns ErrCompile.
func (e *CompileError) Unwrap() error { return ErrCompile }

// Config configures an Engine. The zero value of each field takes its
// default.
type Config struct {
	// TimeLimit is Redis's lua-time-limit (busy-reply-threshold): after
	// it, a running script makes Busy true and may be killed. Default 5s.
	TimeLimit time.Duration
	// MaxScripts and MaxBytes bound the cache, in scripts and in bytes of
	// bodies: the least recently used bodies leave when a new one would
	// exceed either (the newest always stays). Defaults 10,000 and 64 MiB.
	MaxScripts int
	MaxBytes   int
	// Version is redis.REDIS_VERSION. Default "7.0.15".
	Version string
	// Now is the clock the time limit is measured with. Default time.Now.
	Now func() time.Time
	// Log receives redis.log's lines: level 0 (LOG_DEBUG) to 3
	// (LOG_WARNING). Default: discard.
	Log func(level int, msg string)
}

// DefaultConfig returns the defaults: Redis's 5 s time limit, 10,000
// cached scripts, version 7.0.15.
func DefaultConfig() Config {
	return Config{
		TimeLimit:  5 * time.Second, // Redis's lua-time-limit default
		MaxScripts: 10000,           // bodies; clients resend with EVAL after NOSCRIPT
		MaxBytes:   64 << 20,        // a few large bodies cannot hold the node's memory
		Version:    "7.0.15",        // what dynakv's INFO reports
		Now:        time.Now,
		Log:        func(int, string) {},
	}
}

func (c *Config) ensureDefaults() {
	d := DefaultConfig()
	if c.TimeLimit == 0 {
		c.TimeLimit = d.TimeLimit
	}
	if c.MaxScripts <= 0 {
		c.MaxScripts = d.MaxScripts
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Log == nil {
		c.Log = d.Log
	}
}

// Caller runs one command a script calls and returns its complete reply,
// encoded in RESP version proto (2, or 3 after redis.setresp(3)), and
// whether the command is a write (a script that called one can no longer
// be killed). Refusals (unknown command, not allowed from scripts, a
// write from a read-only script…) are error replies too.
type Caller func(args [][]byte, proto int) (reply []byte, write bool)

// Call is one run of a script.
type Call struct {
	// Body is the script's source.
	Body []byte
	// Keys and Args are KEYS and ARGV.
	Keys, Args [][]byte
	// Proto is the client's protocol (2 or 3): the reply is encoded in it.
	Proto int
	// Do runs the script's redis.call and redis.pcall.
	Do Caller
}

// Engine runs scripts and keeps their cache. Build it with New.
type Engine struct {
	cfg   Config
	limit atomic.Int64 // TimeLimit, nanoseconds

	mu    sync.Mutex
	cache map[string]*list.Element // sha → *entry
	lru   list.List                // front: most recently used
	bytes int                      // of the cached bodies

	pool sync.Pool // *sandbox

	runMu   sync.Mutex
	running map[*run]struct{}
	nrun    atomic.Int32
}

type entry struct {
	sha   string
	body  []byte
	proto *lua.FunctionProto
}

// run is one script in execution.
type run struct {
	start  time.Time
	wrote  atomic.Bool
	killed atomic.Bool
	cancel context.CancelFunc
}

// New returns an engine; cfg's zero fields take their defaults.
func New(cfg Config) *Engine {
	cfg.ensureDefaults()
	e := &Engine{cfg: cfg, cache: make(map[string]*list.Element), running: make(map[*run]struct{})}
	e.limit.Store(int64(cfg.TimeLimit))
	return e
}

// TimeLimit returns the current time limit.
func (e *Engine) TimeLimit() time.Duration { return time.Duration(e.limit.Load()) }

// SetTimeLimit changes the time limit (CONFIG SET lua-time-limit).
func (e *Engine) SetTimeLimit(d time.Duration) { e.limit.Store(int64(d)) }

// SHA1 returns the lower-case hex SHA1 of body, its name in the cache.
func SHA1(body []byte) string {
	h := sha1.Sum(body)
	return hex.EncodeToString(h[:])
}

// Load compiles body and caches it (SCRIPT LOAD, and every EVAL), and
// returns its SHA1. A body that does not compile is not cached: the error
// wraps ErrCompile.
func (e *Engine) Load(body []byte) (string, error) {
	en, err := e.load(body)
	if err != nil {
		return "", err
	}
	return en.sha, nil
}

func (e *Engine) load(body []byte) (*entry, error) {
	sha := SHA1(body)
	e.mu.Lock()
	if el, ok := e.cache[sha]; ok {
		e.lru.MoveToFront(el)
		e.mu.Unlock()
		return el.Value.(*entry), nil
	}
	e.mu.Unlock()
	proto, err := compile(body)
	if err != nil {
		return nil, err
	}
	en := &entry{sha: sha, body: body, proto: proto}
	e.mu.Lock()
	defer e.mu.Unlock()
	if el, ok := e.cache[sha]; ok { // loaded meanwhile
		return el.Value.(*entry), nil
	}
	e.cache[sha] = e.lru.PushFront(en)
	e.bytes += len(body)
	for e.lru.Len() > 1 && (e.lru.Len() > e.cfg.MaxScripts || e.bytes > e.cfg.MaxBytes) {
		old := e.lru.Back()
		e.lru.Remove(old)
		delete(e.cache, old.Value.(*entry).sha)
		e.bytes -= len(old.Value.(*entry).body)
	}
	return en, nil
}

// compile parses and compiles a body, as Redis names it: "user_script".
func compile(body []byte) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(string(body)), chunkName)
	if err != nil {
		return nil, &CompileError{Msg: compileMessage(err, body)}
	}
	proto, err := lua.Compile(chunk, chunkName)
	if err != nil {
		return nil, &CompileError{Msg: compileMessage(err, body)}
	}
	return proto, nil
}

// Lookup returns the cached body of sha (case-insensitive), for EVALSHA.
func (e *Engine) Lookup(sha string) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	el, ok := e.cache[strings.ToLower(sha)]
	if !ok {
		return nil, false
	}
	e.lru.MoveToFront(el)
	return el.Value.(*entry).body, true
}

// Exists reports whether sha is cached (SCRIPT EXISTS), without
// refreshing it.
func (e *Engine) Exists(sha string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.cache[strings.ToLower(sha)]
	return ok
}

// Len returns the number of cached scripts.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lru.Len()
}

// Flush empties the cache (SCRIPT FLUSH). Running scripts finish.
func (e *Engine) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.cache)
	e.lru.Init()
	e.bytes = 0
}

// Busy reports whether a script has been running for the time limit or
// longer: other clients then get BUSY.
func (e *Engine) Busy() bool {
	if e.nrun.Load() == 0 {
		return false
	}
	now, limit := e.cfg.Now(), e.TimeLimit()
	e.runMu.Lock()
	defer e.runMu.Unlock()
	for r := range e.running {
		if now.Sub(r.start) >= limit {
			return true
		}
	}
	return false
}

// Running returns the number of scripts in execution.
func (e *Engine) Running() int { return int(e.nrun.Load()) }

// Kill stops every busy script that has not called a write command (SCRIPT
// KILL): its run ends with Redis's "Script killed by user" error. It
// returns ErrNotBusy if no script is busy and ErrUnkillable if every busy
// script has written.
func (e *Engine) Kill() error {
	now, limit := e.cfg.Now(), e.TimeLimit()
	e.runMu.Lock()
	defer e.runMu.Unlock()
	busy, killed := 0, 0
	for r := range e.running {
		if now.Sub(r.start) < limit {
			continue
		}
		busy++
		if r.wrote.Load() {
			continue
		}
		r.killed.Store(true)
		r.cancel()
		killed++
	}
	switch {
	case busy == 0:
		return ErrNotBusy
	case killed == 0:
		return ErrUnkillable
	}
	return nil
}

func (e *Engine) begin(ctx context.Context) (*run, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	r := &run{start: e.cfg.Now(), cancel: cancel}
	e.runMu.Lock()
	e.running[r] = struct{}{}
	e.runMu.Unlock()
	e.nrun.Add(1)
	return r, ctx
}

func (e *Engine) end(r *run) {
	e.runMu.Lock()
	delete(e.running, r)
	e.runMu.Unlock()
	e.nrun.Add(-1)
	r.cancel()
}

// Run runs a script (compiling and caching its body if needed) and
// returns its reply, RESP encoded for call.Proto: the script's value
// converted, or Redis's error reply for a script that failed or did not
// compile. ctx's cancellation stops the script as Kill does.
func (e *Engine) Run(ctx context.Context, call Call) []byte {
	en, err := e.load(call.Body)
	if err != nil {
		var ce *CompileError
		errors.As(err, &ce)
		return appendError(nil, "ERR Error compiling script (new function): "+ce.Msg)
	}
	r, ctx := e.begin(ctx)
	defer e.end(r)
	sb, _ := e.pool.Get().(*sandbox)
	if sb == nil {
		sb = newSandbox(e)
	}
	out, reuse := sb.run(ctx, r, en, call)
	if reuse {
		e.pool.Put(sb)
	} else {
		sb.L.Close()
	}
	return out
}
