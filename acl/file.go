package acl

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFile wraps the refusal of an ACL file (ParseFile); its text lists
// every problem as Redis 7.0's ACL LOAD does.
var ErrFile = errors.New("ACL errors detected, no change to the previously active ACL rules was performed")

// ParseFile parses an ACL file (Redis's aclfile format: one "user <name>
// <rule>…" line per user, blank lines skipped; arguments split at
// spaces, without Redis's quoting) named name (for messages). It returns
// the users' rules, or an error wrapping ErrFile whose text is Redis's:
// "<name>:<line>: Error in applying operation '<rule>': <reason>. … WARNING:
// ACL errors detected, no change to the previously active ACL rules was
// performed".
func ParseFile(name string, data []byte, cat Catalog) (map[string]*Rules, error) {
	users := map[string]*Rules{}
	line := map[string]int{}
	var errs strings.Builder
	for i, text := range strings.Split(string(data), "\n") {
		n := i + 1
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if f[0] != "user" || len(f) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", name, n)
			continue
		}
		if _, dup := line[f[1]]; dup {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", f[1], n)
			continue
		}
		line[f[1]] = n
		r, err := (&Rules{}).Apply(cat, f[2:]...)
		var re *RuleError
		switch {
		case errors.As(err, &re):
			fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", name, n, re.Rule, re.Err)
		case err != nil:
			fmt.Fprintf(&errs, "%s:%d: %s. ", name, n, err)
		default:
			users[f[1]] = r
		}
	}
	if errs.Len() > 0 {
		return nil, fmt.Errorf("%sWARNING: %w", errs.String(), ErrFile)
	}
	return users, nil
}

// FormatFile renders users as an ACL file, ACL SAVE's: one ACL LIST line
// each, in the given order.
func FormatFile(users []*User) []byte {
	var b strings.Builder
	for _, u := range users {
		b.WriteString("user " + u.Name() + " " + u.Rules().Describe() + "\n")
	}
	return []byte(b.String())
}
