package acl

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Errors of the Table, worded as Redis 7.0 words them.
var (
	// ErrWrongPass: AUTH of an unknown or disabled user, or a wrong
	// password.
	ErrWrongPass = errors.New("WRONGPASS invalid username-password pair or user is disabled.")
	// ErrDeleteDefault: ACL DELUSER default.
	ErrDeleteDefault = errors.New("ERR The 'default' user cannot be removed")
	// ErrBadUsername: a name with a space or a NUL byte.
	ErrBadUsername = errors.New("ERR Usernames can't contain spaces or null characters")
)

// DefaultUser is the name of the user every connection starts as.
const DefaultUser = "default"

// User is a named user whose Rules may be replaced at any time (ACL
// SETUSER); a connection authenticated as it keeps the *User and reads
// its current Rules per command.
type User struct {
	name    string
	rules   atomic.Pointer[Rules]
	deleted atomic.Bool
}

// Name returns the user's name.
func (u *User) Name() string { return u.name }

// Rules returns the user's current rules. Never modify them.
func (u *User) Rules() *Rules { return u.rules.Load() }

// Deleted reports whether the user was removed (ACL DELUSER, ACL LOAD).
func (u *User) Deleted() bool { return u.deleted.Load() }

// NewUser returns a user that belongs to no table, with ops applied to
// a new user's rules (a *RuleError if one is refused).
func NewUser(cat Catalog, name string, ops ...string) (*User, error) {
	r, err := (&Rules{}).Apply(cat, ops...)
	if err != nil {
		return nil, err
	}
	u := &User{name: name}
	u.rules.Store(r)
	return u, nil
}

// Table is the users of one server. It always holds the default user.
type Table struct {
	cat   Catalog
	mu    sync.RWMutex
	users map[string]*User
}

// NewTable returns a table holding only the default user, with the
// rules of a server whose requirepass is pass (Default).
func NewTable(cat Catalog, pass string) *Table {
	t := &Table{cat: cat, users: map[string]*User{}}
	u := &User{name: DefaultUser}
	u.rules.Store(Default(pass))
	t.users[DefaultUser] = u
	return t
}

// Catalog returns the table's command catalog.
func (t *Table) Catalog() Catalog { return t.cat }

// User returns the user named name, or nil.
func (t *Table) User(name string) *User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.users[name]
}

// Default returns the default user.
func (t *Table) Default() *User { return t.User(DefaultUser) }

// Names returns the users' names, sorted.
func (t *Table) Names() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	names := make([]string, 0, len(t.users))
	for n := range t.users {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Users returns the users, sorted by name.
func (t *Table) Users() []*User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*User, 0, len(t.users))
	for _, u := range t.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *User) int { return strings.Compare(a.name, b.name) })
	return out
}

// SetUser creates the user named name if needed (off, no password, no
// commands, keys or channels) and applies ops to it, all or nothing: a
// refused rule returns a *RuleError and changes nothing.
func (t *Table) SetUser(name string, ops ...string) error {
	if strings.ContainsAny(name, " \x00") {
		return ErrBadUsername
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[name]
	base := &Rules{}
	if u != nil {
		base = u.Rules()
	}
	r, err := base.Apply(t.cat, ops...)
	if err != nil {
		return err
	}
	if u == nil {
		u = &User{name: name}
		t.users[name] = u
	}
	u.rules.Store(r)
	return nil
}

// DelUser removes the named users that exist and returns them (marked
// Deleted), so the caller can disconnect their connections. Deleting
// the default user is refused, and then nothing is deleted.
func (t *Table) DelUser(names ...string) ([]*User, error) {
	if slices.Contains(names, DefaultUser) {
		return nil, ErrDeleteDefault
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*User
	for _, n := range names {
		if u := t.users[n]; u != nil {
			delete(t.users, n)
			u.deleted.Store(true)
			out = append(out, u)
		}
	}
	return out, nil
}

// Replace installs users (from an ACL file) in place of the table's,
// all at once, as Redis 7.0's ACL LOAD: every user but the default one
// is a new *User, and the previous ones are returned, marked Deleted, so
// the caller can disconnect their connections; the default user keeps
// its *User (and its connections), with the file's rules, or "on nopass
// ~* &* +@all" if the file has none.
func (t *Table) Replace(users map[string]*Rules) []*User {
	def := users[DefaultUser]
	if def == nil {
		def = Default("")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []*User
	for n, u := range t.users {
		if n != DefaultUser {
			u.deleted.Store(true)
			gone = append(gone, u)
		}
	}
	d := t.users[DefaultUser]
	d.rules.Store(def)
	t.users = map[string]*User{DefaultUser: d}
	for n, r := range users {
		if n != DefaultUser {
			u := &User{name: n}
			u.rules.Store(r)
			t.users[n] = u
		}
	}
	return gone
}

// Authenticate returns the user named name if it is enabled and pass is
// one of its passwords (or it is nopass); else ErrWrongPass.
func (t *Table) Authenticate(name string, pass []byte) (*User, error) {
	u := t.User(name)
	if u == nil {
		return nil, ErrWrongPass
	}
	r := u.Rules()
	if !r.On {
		return nil, ErrWrongPass
	}
	if r.NoPass {
		return u, nil
	}
	sum := sha256.Sum256(pass)
	h := []byte(hex.EncodeToString(sum[:]))
	ok := 0
	for _, p := range r.passwords {
		ok |= subtle.ConstantTimeCompare(h, []byte(p))
	}
	if ok == 0 {
		return nil, ErrWrongPass
	}
	return u, nil
}

// GenPass returns ACL GENPASS's password: bits random bits (crypto/rand)
// in lowercase hex, rounded up to whole hex digits. bits must be in
// 1..4096 (the caller checks, with Redis's error).
func GenPass(bits int) string {
	n := (bits + 3) / 4
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)[:n]
}
