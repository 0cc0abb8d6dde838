package acl

import "strings"

// Categories is a set of Redis ACL command categories (ACL CAT), one bit
// each.
type Categories uint32

// The categories of Redis 7.0, in ACL CAT's order.
const (
	Keyspace Categories = 1 << iota
	Read
	Write
	Set
	SortedSet
	List
	Hash
	String
	Bitmap
	HyperLogLog
	Geo
	Stream
	PubSub
	Admin
	Fast
	Slow
	Blocking
	Dangerous
	Connection
	Transaction
	Scripting
)

var categoryNames = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting"}

// CategoryNames returns every category's name, in ACL CAT's order.
func CategoryNames() []string { return append([]string(nil), categoryNames...) }

// ParseCategory returns the category named name ("read", case-insensitive),
// or false.
func ParseCategory(name string) (Categories, bool) {
	for i, n := range categoryNames {
		if strings.EqualFold(n, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

// ParseCategories returns the set of the space-separated category names
// in s ("write string fast"); unknown names are ignored.
func ParseCategories(s string) Categories {
	var c Categories
	for _, f := range strings.Fields(s) {
		b, _ := ParseCategory(strings.TrimPrefix(f, "@"))
		c |= b
	}
	return c
}

// Names returns the names of the categories in c, in ACL CAT's order.
func (c Categories) Names() []string {
	var out []string
	for i, n := range categoryNames {
		if c&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Access is the access a command needs to its keys.
type Access uint8

// Key access, from Redis 7.0's key specifications.
const (
	AccessRead  Access = 1 << iota // "access": the command reads or returns the key's data
	AccessWrite                    // "insert", "update" or "delete": it modifies the key
	AccessAll   = AccessRead | AccessWrite
)

// ParseAccess parses "R", "W", "RW" (case-insensitive, in any order) or "".
// It reports false on any other letter.
func ParseAccess(s string) (Access, bool) {
	var a Access
	for _, ch := range s {
		switch ch {
		case 'R', 'r':
			a |= AccessRead
		case 'W', 'w':
			a |= AccessWrite
		default:
			return 0, false
		}
	}
	return a, true
}

// Command is what the rules and the check know of a command.
type Command struct {
	// Name is the full name, lower case: "get", or "config|get" for a
	// subcommand.
	Name string
	// Categories are its ACL categories (Redis 7.0's, for Redis commands).
	Categories Categories
	// Access is the access it needs to each of its keys.
	Access Access
	// Container: it has subcommands (CONFIG, CLIENT…).
	Container bool
	// NoAuth: a command allowed before authentication (AUTH, HELLO…),
	// which every user may run whatever its command rules, as in Redis.
	NoAuth bool
}

// Catalog is the command table as the ACL sees it. Implementations must
// be safe for concurrent use and must not change once rules are parsed.
type Catalog interface {
	// Lookup returns the command of a lower-case full name ("get",
	// "config|get").
	Lookup(name string) (Command, bool)
	// Commands returns every command and subcommand.
	Commands() []Command
}
