package acl

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors of ACL SETUSER's rules, worded as Redis 7.0 words them; a
// *RuleError wraps one with the rule it refused.
var (
	ErrUnknownCommand  = errors.New("Unknown command or category name in ACL")
	ErrSyntax          = errors.New("Syntax error")
	ErrKeyAfterAll     = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	ErrChannelAfterAll = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	ErrNoSuchPassword  = errors.New("The password you are trying to remove from the user does not exist")
	ErrBadHash         = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
)

// RuleError is a refused rule of ACL SETUSER (or of an ACL file line).
type RuleError struct {
	Rule string // the rule as given
	Err  error  // one of the Err* sentinels
}

// Error renders Redis's text after "ERR ": "Error in ACL SETUSER
// modifier '<rule>': <reason>".
func (e *RuleError) Error() string {
	return fmt.Sprintf("Error in ACL SETUSER modifier '%s': %s", e.Rule, e.Err)
}

// Unwrap returns the sentinel.
func (e *RuleError) Unwrap() error { return e.Err }

// cmdRule is one command rule: +name, -name, +@cat, -@cat or the
// first-argument form +name|arg.
type cmdRule struct {
	allow    bool
	cat      Categories // a category rule when non-zero
	name     string     // command, "cmd|sub", or "cmd|arg" when firstArg
	firstArg bool
}

func (r cmdRule) String() string {
	sign := "-"
	if r.allow {
		sign = "+"
	}
	if r.cat != 0 {
		return sign + "@" + r.cat.Names()[0]
	}
	return sign + r.name
}

// covers reports whether the rule applies to cmd called with firstArg.
func (r cmdRule) covers(cmd *Command, firstArg []byte) bool {
	switch {
	case r.cat != 0:
		return cmd.Categories&r.cat != 0
	case r.firstArg:
		base, arg, _ := strings.Cut(r.name, "|")
		return cmd.Name == base && strings.EqualFold(string(firstArg), arg)
	default:
		return cmd.Name == r.name || strings.HasPrefix(cmd.Name, r.name) && cmd.Name[len(r.name)] == '|'
	}
}

// pattern is a key pattern with the access it grants.
type pattern struct {
	glob   string
	access Access
}

func (p pattern) String() string {
	switch p.access {
	case AccessRead:
		return "%R~" + p.glob
	case AccessWrite:
		return "%W~" + p.glob
	}
	return "~" + p.glob
}

// Rules are a user's state: enabled, passwords, command rules, key and
// channel patterns. The zero value is a new user's: off, no password,
// no commands (-@all), no keys, no channels. Installed Rules are never
// modified (see the package documentation).
type Rules struct {
	On bool
	// NoPass: any password logs in.
	NoPass bool
	// Sanitize is Redis's sanitize-payload flag, which reset sets; it is
	// only reported (dynakv has no RESTORE payloads to sanitize).
	Sanitize    bool
	passwords   []string // SHA-256 of each password, lowercase hex
	allCommands bool     // the base: +@all (true) or -@all
	cmds        []cmdRule
	keys        []pattern
	channels    []string
	// allowed tabulates each catalog command's permission under cmds
	// (set by Apply; nil for Default's rules, which allow everything).
	allowed  map[string]bool
	firstArg bool // some rule of cmds is a first-argument rule
}

// Default returns the rules of the default user of a server whose
// requirepass is pass: "on nopass ~* &* +@all", or with pass's hash.
func Default(pass string) *Rules {
	r := &Rules{On: true, NoPass: pass == "", allCommands: true, keys: []pattern{{"*", AccessAll}}, channels: []string{"*"}}
	if pass != "" {
		r.passwords = []string{HashPassword([]byte(pass))}
	}
	return r
}

// HashPassword returns the SHA-256 of pass in lowercase hex, as ACL LIST
// and ACL GETUSER show passwords.
func HashPassword(pass []byte) string {
	sum := sha256.Sum256(pass)
	return hex.EncodeToString(sum[:])
}

func (r *Rules) clone() *Rules {
	c := *r
	c.passwords = slices.Clone(r.passwords)
	c.cmds = slices.Clone(r.cmds)
	c.keys = slices.Clone(r.keys)
	c.channels = slices.Clone(r.channels)
	c.allowed = nil
	return &c
}

// Apply returns a copy of r with ops applied left to right, or the first
// refused rule as a *RuleError (r is never modified). cat resolves
// command names and categories.
func (r *Rules) Apply(cat Catalog, ops ...string) (*Rules, error) {
	c := r.clone()
	for _, op := range ops {
		if err := c.apply(cat, op); err != nil {
			return nil, &RuleError{Rule: op, Err: err}
		}
	}
	idx := newCatalogIndex(cat)
	c.simplify(idx)
	c.table(idx)
	return c, nil
}

func (r *Rules) apply(cat Catalog, op string) error {
	switch strings.ToLower(op) {
	case "on":
		r.On = true
	case "off":
		r.On = false
	case "nopass":
		r.NoPass, r.passwords = true, nil
	case "resetpass":
		r.NoPass, r.passwords = false, nil
	case "allkeys":
		r.keys = []pattern{{"*", AccessAll}}
	case "resetkeys":
		r.keys = nil
	case "allchannels":
		r.channels = []string{"*"}
	case "resetchannels":
		r.channels = nil
	case "allcommands", "+@all":
		r.allCommands, r.cmds = true, nil
	case "nocommands", "-@all":
		r.allCommands, r.cmds = false, nil
	case "sanitize-payload":
		r.Sanitize = true
	case "skip-sanitize-payload":
		r.Sanitize = false
	case "clearselectors":
	case "reset":
		*r = Rules{Sanitize: true}
	default:
		return r.applyArg(cat, op)
	}
	return nil
}

func (r *Rules) applyArg(cat Catalog, op string) error {
	if op == "" {
		return ErrSyntax
	}
	switch arg := op[1:]; op[0] {
	case '>':
		r.addPassword(HashPassword([]byte(arg)))
	case '<':
		return r.removePassword(HashPassword([]byte(arg)))
	case '#':
		if !validHash(arg) {
			return ErrBadHash
		}
		r.addPassword(arg)
	case '!':
		if !validHash(arg) {
			return ErrBadHash
		}
		return r.removePassword(arg)
	case '~':
		return r.addKey(pattern{arg, AccessAll})
	case '%':
		flags, glob, ok := strings.Cut(arg, "~")
		a, valid := ParseAccess(flags)
		if !ok || !valid || a == 0 {
			return ErrSyntax
		}
		return r.addKey(pattern{glob, a})
	case '&':
		return r.addChannel(arg)
	case '+', '-':
		rule, err := parseCmdRule(cat, op)
		if err != nil {
			return err
		}
		r.cmds = append(r.cmds, rule)
	default:
		return ErrSyntax
	}
	return nil
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, ch := range h {
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f') {
			return false
		}
	}
	return true
}

func (r *Rules) addPassword(h string) {
	r.NoPass = false
	if !slices.Contains(r.passwords, h) {
		r.passwords = append(r.passwords, h)
	}
}

func (r *Rules) removePassword(h string) error {
	i := slices.Index(r.passwords, h)
	if i < 0 {
		return ErrNoSuchPassword
	}
	r.passwords = slices.Delete(r.passwords, i, i+1)
	return nil
}

func (r *Rules) addKey(p pattern) error {
	if r.AllKeys() {
		return ErrKeyAfterAll
	}
	if p.glob == "*" && p.access == AccessAll {
		r.keys = []pattern{p}
		return nil
	}
	for i := range r.keys {
		if r.keys[i].glob == p.glob {
			r.keys[i].access |= p.access
			return nil
		}
	}
	r.keys = append(r.keys, p)
	return nil
}

func (r *Rules) addChannel(glob string) error {
	if r.AllChannels() {
		return ErrChannelAfterAll
	}
	if glob == "*" {
		r.channels = []string{"*"}
		return nil
	}
	if !slices.Contains(r.channels, glob) {
		r.channels = append(r.channels, glob)
	}
	return nil
}

// parseCmdRule parses +cmd, -cmd, +cmd|sub, +cmd|firstarg, +@cat, -@cat.
func parseCmdRule(cat Catalog, op string) (cmdRule, error) {
	rule := cmdRule{allow: op[0] == '+'}
	name := strings.ToLower(op[1:])
	if c, ok := strings.CutPrefix(name, "@"); ok {
		b, found := ParseCategory(c)
		if !found {
			return rule, ErrUnknownCommand
		}
		rule.cat = b
		return rule, nil
	}
	rule.name = name
	if _, ok := cat.Lookup(name); ok && name != "" {
		return rule, nil
	}
	base, _, sub := strings.Cut(name, "|")
	if c, ok := cat.Lookup(base); sub && ok && !c.Container && rule.allow && !strings.Contains(name[len(base)+1:], "|") && len(name) > len(base)+1 {
		rule.firstArg = true
		return rule, nil
	}
	return rule, ErrUnknownCommand
}

// catalogIndex is the catalog's commands, numbered, for computing which
// commands each rule covers (as bit sets) when simplifying the rules and
// tabulating the permissions.
type catalogIndex struct {
	cmds []Command
	pos  map[string]int
}

func newCatalogIndex(cat Catalog) *catalogIndex {
	x := &catalogIndex{cmds: cat.Commands(), pos: map[string]int{}}
	for i, c := range x.cmds {
		x.pos[c.Name] = i
	}
	return x
}

// bits is a set of command numbers.
type bits []uint64

func (x *catalogIndex) empty() bits { return make(bits, (len(x.cmds)+63)/64) }

func (b bits) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bits) set(i int)      { b[i/64] |= 1 << (i % 64) }

// covered returns the commands rule covers (whatever their first
// argument; none for a first-argument rule).
func (x *catalogIndex) covered(rule cmdRule) bits {
	out := x.empty()
	if rule.firstArg {
		return out
	}
	for i := range x.cmds {
		if rule.covers(&x.cmds[i], nil) {
			out.set(i)
		}
	}
	return out
}

// simplify removes, until none is left, the command rules that change
// no command's permission: a rule every command of which a later rule
// covers, a rule that allows (or denies) only commands already allowed
// (or denied) before it, and a first-argument rule whose command is
// allowed before it or covered by a later rule (or that a later copy
// repeats). A rule covering a command that has an earlier first-argument
// rule is kept. It costs O(passes × rules × commands / 64).
func (r *Rules) simplify(x *catalogIndex) {
	cov := make([]bits, len(r.cmds))
	for i, rule := range r.cmds {
		cov[i] = x.covered(rule)
	}
	for changed := true; changed; {
		changed = false
		n := len(r.cmds)
		// before[i]: the commands allowed by the base and rules[:i];
		// fa[i]: the commands with a first-argument rule in rules[:i].
		before, fa := make([]bits, n), make([]bits, n)
		cur, curFA := x.empty(), x.empty()
		if r.allCommands {
			for i := range x.cmds {
				cur.set(i)
			}
		}
		for i, rule := range r.cmds {
			before[i], fa[i] = slices.Clone(cur), slices.Clone(curFA)
			if rule.firstArg {
				base, _, _ := strings.Cut(rule.name, "|")
				if p, ok := x.pos[base]; ok {
					curFA.set(p)
				}
				continue
			}
			for w := range cur {
				if rule.allow {
					cur[w] |= cov[i][w]
				} else {
					cur[w] &^= cov[i][w]
				}
				curFA[w] &^= cov[i][w]
			}
		}
		later := x.empty()
		for i := n - 1; i >= 0; i-- {
			rule := r.cmds[i]
			if r.redundantAt(x, i, cov[i], before[i], fa[i], later) {
				r.cmds = slices.Delete(r.cmds, i, i+1)
				cov = slices.Delete(cov, i, i+1)
				changed = true
				continue
			}
			if !rule.firstArg {
				for w := range later {
					later[w] |= cov[i][w]
				}
			}
		}
	}
}

// redundantAt reports whether rule i changes no permission, given the
// commands it covers, those allowed before it, those with an earlier
// first-argument rule, and those kept later rules cover.
func (r *Rules) redundantAt(x *catalogIndex, i int, cov, before, fa, later bits) bool {
	rule := r.cmds[i]
	if rule.firstArg {
		base, _, _ := strings.Cut(rule.name, "|")
		p, ok := x.pos[base]
		return !ok || before.has(p) || later.has(p) || slices.Contains(r.cmds[i+1:], rule)
	}
	for w := range cov {
		s := cov[w] &^ later[w] // the commands whose permission it decides
		if s&fa[w] != 0 {
			return false
		}
		if rule.allow && s&^before[w] != 0 || !rule.allow && s&before[w] != 0 {
			return false
		}
	}
	return true
}

// table records every command's permission (ignoring first-argument
// rules), so the check is one map lookup.
func (r *Rules) table(x *catalogIndex) {
	r.allowed = make(map[string]bool, len(x.cmds))
	r.firstArg = slices.ContainsFunc(r.cmds, func(c cmdRule) bool { return c.firstArg })
	for i := range x.cmds {
		r.allowed[x.cmds[i].Name] = r.scan(&x.cmds[i], nil)
	}
}

// AllKeys reports whether every key is allowed for reading and writing
// (allkeys, ~*).
func (r *Rules) AllKeys() bool {
	return len(r.keys) == 1 && r.keys[0].glob == "*" && r.keys[0].access == AccessAll
}

// AllChannels reports whether every channel is allowed (allchannels, &*).
func (r *Rules) AllChannels() bool { return len(r.channels) == 1 && r.channels[0] == "*" }

// AllCommands reports whether every command is allowed (+@all and no
// other command rule).
func (r *Rules) AllCommands() bool { return r.allCommands && len(r.cmds) == 0 }

// Unrestricted reports whether r allows every command on every key and
// channel, so the check may skip computing keys and channels.
func (r *Rules) Unrestricted() bool { return r.AllCommands() && r.AllKeys() && r.AllChannels() }

// Passwords returns the SHA-256 of each password, lowercase hex.
func (r *Rules) Passwords() []string { return slices.Clone(r.passwords) }

// CommandRules renders the command rules as ACL GETUSER's "commands":
// "+@all", "-@all +@read -keys".
func (r *Rules) CommandRules() string {
	var b strings.Builder
	if r.allCommands {
		b.WriteString("+@all")
	} else {
		b.WriteString("-@all")
	}
	for _, c := range r.cmds {
		b.WriteString(" " + c.String())
	}
	return b.String()
}

// KeyRules renders the key patterns as ACL GETUSER's "keys": "~*",
// "~sess:* %R~cache:*", or "".
func (r *Rules) KeyRules() string {
	parts := make([]string, len(r.keys))
	for i, p := range r.keys {
		parts[i] = p.String()
	}
	return strings.Join(parts, " ")
}

// ChannelRules renders the channel patterns as ACL GETUSER's "channels":
// "&*", "&news:*", or "".
func (r *Rules) ChannelRules() string {
	parts := make([]string, len(r.channels))
	for i, c := range r.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

// Flags returns ACL GETUSER's "flags": on or off, then nopass and
// sanitize-payload when set.
func (r *Rules) Flags() []string {
	f := []string{"off"}
	if r.On {
		f[0] = "on"
	}
	if r.NoPass {
		f = append(f, "nopass")
	}
	if r.Sanitize {
		f = append(f, "sanitize-payload")
	}
	return f
}

// Describe renders the rules as ACL LIST and an ACL file do, after
// "user <name> ": "on nopass ~* &* +@all".
func (r *Rules) Describe() string {
	parts := r.Flags()
	for _, h := range r.passwords {
		parts = append(parts, "#"+h)
	}
	if k := r.KeyRules(); k != "" {
		parts = append(parts, k)
	}
	if !r.AllChannels() {
		parts = append(parts, "resetchannels")
	}
	if ch := r.ChannelRules(); ch != "" {
		parts = append(parts, ch)
	}
	parts = append(parts, r.CommandRules())
	return strings.Join(parts, " ")
}
