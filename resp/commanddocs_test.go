package resp

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestCommandDocsFile regenerates commanddocs.json from redis-server's
// COMMAND DOCS when DYNAKV_GEN_DOCS is set (it needs redis-server 7.0).
func TestCommandDocsFile(t *testing.T) {
	if os.Getenv("DYNAKV_GEN_DOCS") == "" {
		t.Skip("set DYNAKV_GEN_DOCS=1 to regenerate commanddocs.json from redis-server")
	}
	addr := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 3})
	defer rdb.Close()
	v, err := rdb.Do(context.Background(), "COMMAND", "DOCS").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cmdDoc{}
	var walk func(name string, m map[any]any)
	walk = func(name string, m map[any]any) {
		d := cmdDoc{}
		d.Summary, _ = m["summary"].(string)
		d.Since, _ = m["since"].(string)
		d.Group, _ = m["group"].(string)
		d.Complexity, _ = m["complexity"].(string)
		if as, ok := m["arguments"].([]any); ok {
			d.Arguments = argDocs(as)
		}
		if fs, ok := m["doc_flags"].([]any); ok {
			for _, f := range fs {
				d.DocFlags = append(d.DocFlags, f.(string))
			}
		}
		d.Deprecated, _ = m["deprecated_since"].(string)
		d.ReplacedBy, _ = m["replaced_by"].(string)
		if hs, ok := m["history"].([]any); ok {
			for _, h := range hs {
				e := h.([]any)
				d.History = append(d.History, [2]string{e[0].(string), e[1].(string)})
			}
		}
		out[name] = d
		if subs, ok := m["subcommands"].(map[any]any); ok {
			for k, sv := range subs {
				walk(k.(string), sv.(map[any]any))
			}
		}
	}
	for k, cv := range v.(map[any]any) {
		walk(k.(string), cv.(map[any]any))
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("commanddocs.json", append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d commands' docs", len(out))
}

func argDocs(as []any) []argDoc {
	var out []argDoc
	for _, av := range as {
		m := av.(map[any]any)
		a := argDoc{}
		a.Name, _ = m["name"].(string)
		a.Type, _ = m["type"].(string)
		a.DisplayText, _ = m["display_text"].(string)
		if i, ok := m["key_spec_index"].(int64); ok {
			n := int(i)
			a.KeySpecIndex = &n
		}
		if s, ok := m["token"].(string); ok {
			a.Token = &s
		}
		a.Summary, _ = m["summary"].(string)
		a.Since, _ = m["since"].(string)
		a.Deprecated, _ = m["deprecated_since"].(string)
		if fs, ok := m["flags"].([]any); ok {
			for _, f := range fs {
				a.Flags = append(a.Flags, f.(string))
			}
		}
		if sub, ok := m["arguments"].([]any); ok {
			a.Arguments = argDocs(sub)
		}
		out = append(out, a)
	}
	return out
}
