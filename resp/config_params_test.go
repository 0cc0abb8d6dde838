package resp

import (
	"strings"
	"testing"
)

// TestConfigHzPortBindSave: CONFIG GET hz (10), port and bind (the
// listener's), several patterns at once; CONFIG SET with a parameter
// twice gets Redis's duplicate-parameter error, even for the read-only
// hz; save is accepted (checked as Redis checks it) and reported, and
// appendonly stays refused.
func TestConfigHzPortBindSave(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	_, port, _ := strings.Cut(ts.addr, ":")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CONFIG", "GET", "hz"}, multibulk("hz", "10")},
		{[]string{"CONFIG", "GET", "port"}, multibulk("port", port)},
		{[]string{"CONFIG", "GET", "bind"}, multibulk("bind", "127.0.0.1")},
		{[]string{"CONFIG", "GET", "maxmemory", "hz"}, multibulk("hz", "10", "maxmemory", "0")},
		{[]string{"CONFIG", "SET", "hz", "10", "hz", "20"}, "-ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "5", "hz", "10", "maxmemory", "6"}, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n"},
		{[]string{"CONFIG", "GET", "maxmemory"}, multibulk("maxmemory", "0")},
		{[]string{"CONFIG", "SET", "hz", "20"}, "-ERR CONFIG SET failed (possibly related to argument 'hz') - dynakv is configured by command-line flags\r\n"},
		{[]string{"CONFIG", "SET", "save", ""}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "save"}, multibulk("save", "")},
		{[]string{"CONFIG", "SET", "save", "3600 1 300 100"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "save"}, multibulk("save", "3600 1 300 100")},
		{[]string{"CONFIG", "SET", "save", "1 2 3"}, "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"},
		{[]string{"CONFIG", "SET", "save", "foo"}, "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"},
		{[]string{"CONFIG", "GET", "save"}, multibulk("save", "3600 1 300 100")},
		{[]string{"CONFIG", "SET", "appendonly", "yes"}, "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - dynakv is configured by command-line flags\r\n"},
	} {
		if got := r.do(tc.args...); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.args, got, tc.want)
		}
	}
}
