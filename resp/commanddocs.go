package resp

import (
	_ "embed"
	"encoding/json"
	"sync"
)

// commandDocsJSON is Redis 7.0's COMMAND DOCS for every Redis command
// (summary, since, group, complexity and the argument tree), as
// redis-server 7.0 replies it; TestCommandDocsFile regenerates it from
// an installed redis-server. Redis is BSD-licensed; these are its
// command descriptions. COMMAND DOCS fills what a command of the table
// leaves empty from it, so redis-cli's HELP shows every argument.
//
//go:embed commanddocs.json
var commandDocsJSON []byte

// argDoc is one argument of a command, as COMMAND DOCS describes it.
type argDoc struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	DisplayText  string   `json:"display_text,omitempty"`
	KeySpecIndex *int     `json:"key_spec_index,omitempty"`
	Token        *string  `json:"token,omitempty"`
	Summary      string   `json:"summary,omitempty"`
	Since        string   `json:"since,omitempty"`
	Flags        []string `json:"flags,omitempty"`
	Deprecated   string   `json:"deprecated_since,omitempty"`
	Arguments    []argDoc `json:"arguments,omitempty"`
}

// cmdDoc is one command's COMMAND DOCS entry (subcommands are entries
// of their own, by full name "config|set").
type cmdDoc struct {
	Summary    string      `json:"summary,omitempty"`
	Since      string      `json:"since,omitempty"`
	Group      string      `json:"group,omitempty"`
	Complexity string      `json:"complexity,omitempty"`
	DocFlags   []string    `json:"doc_flags,omitempty"`
	Deprecated string      `json:"deprecated_since,omitempty"`
	ReplacedBy string      `json:"replaced_by,omitempty"`
	History    [][2]string `json:"history,omitempty"`
	Arguments  []argDoc    `json:"arguments,omitempty"`
}

// redisDocs returns the embedded docs by full command name.
var redisDocs = sync.OnceValue(func() map[string]cmdDoc {
	var m map[string]cmdDoc
	if err := json.Unmarshal(commandDocsJSON, &m); err != nil {
		panic("resp: commanddocs.json: " + err.Error()) // a bug in the embedded file
	}
	return m
})

// writeArgDocs writes an argument list of COMMAND DOCS, with Redis's
// field order and types (flags are a set of status strings).
func writeArgDocs(c *Conn, args []argDoc) {
	c.WriteArray(len(args))
	for _, a := range args {
		n := 2
		for _, present := range []bool{a.DisplayText != "", a.KeySpecIndex != nil, a.Token != nil, a.Summary != "", a.Since != "", len(a.Flags) > 0, a.Deprecated != "", len(a.Arguments) > 0} {
			if present {
				n++
			}
		}
		c.WriteMap(n)
		c.WriteBulkString("name")
		c.WriteBulkString(a.Name)
		c.WriteBulkString("type")
		c.WriteBulkString(a.Type)
		if a.DisplayText != "" {
			c.WriteBulkString("display_text")
			c.WriteBulkString(a.DisplayText)
		}
		if a.KeySpecIndex != nil {
			c.WriteBulkString("key_spec_index")
			c.WriteInt(int64(*a.KeySpecIndex))
		}
		if a.Token != nil {
			c.WriteBulkString("token")
			c.WriteBulkString(*a.Token)
		}
		if a.Summary != "" {
			c.WriteBulkString("summary")
			c.WriteBulkString(a.Summary)
		}
		if a.Since != "" {
			c.WriteBulkString("since")
			c.WriteBulkString(a.Since)
		}
		if len(a.Flags) > 0 {
			c.WriteBulkString("flags")
			c.WriteSet(len(a.Flags))
			for _, f := range a.Flags {
				c.WriteSimple(f)
			}
		}
		if a.Deprecated != "" {
			c.WriteBulkString("deprecated_since")
			c.WriteBulkString(a.Deprecated)
		}
		if len(a.Arguments) > 0 {
			c.WriteBulkString("arguments")
			writeArgDocs(c, a.Arguments)
		}
	}
}

// writeDocExtras writes the fields COMMAND DOCS shows between a
// command's complexity and its arguments (docExtras counts them).
func writeDocExtras(c *Conn, doc cmdDoc) {
	if len(doc.DocFlags) > 0 {
		c.WriteBulkString("doc_flags")
		c.WriteSet(len(doc.DocFlags))
		for _, f := range doc.DocFlags {
			c.WriteSimple(f)
		}
	}
	if doc.Deprecated != "" {
		c.WriteBulkString("deprecated_since")
		c.WriteBulkString(doc.Deprecated)
	}
	if doc.ReplacedBy != "" {
		c.WriteBulkString("replaced_by")
		c.WriteBulkString(doc.ReplacedBy)
	}
	if len(doc.History) > 0 {
		c.WriteBulkString("history")
		c.WriteSet(len(doc.History))
		for _, h := range doc.History {
			c.WriteArray(2)
			c.WriteBulkString(h[0])
			c.WriteBulkString(h[1])
		}
	}
}

// docExtras counts the fields writeDocExtras writes.
func docExtras(doc cmdDoc) int {
	n := 0
	for _, present := range []bool{len(doc.DocFlags) > 0, doc.Deprecated != "", doc.ReplacedBy != "", len(doc.History) > 0} {
		if present {
			n++
		}
	}
	return n
}
