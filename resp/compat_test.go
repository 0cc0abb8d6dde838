package resp

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// TestCompatCommands: ROLE is a master's with no replicas in RESP2 and
// RESP3; LASTSAVE is the node's start; ACL WHOAMI, USERS and LIST show
// the default user as Redis renders it (nopass, or requirepass's
// SHA-256); FUNCTION, FCALL and DEBUG are refused with a reason; MEMORY DOCTOR ends with Redis's newline.
func TestCompatCommands(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		t.Run("requirepass="+pass, func(t *testing.T) {
			ts := startServer(t, Config{RequirePass: pass})
			r := dialRaw(t, ts.addr)
			if pass != "" {
				if got := r.do("ACL", "WHOAMI"); got != "-"+msgNoAuth+"\r\n" {
					t.Errorf("ACL WHOAMI before AUTH: %q", got)
				}
				r.do("AUTH", pass)
			}
			line := "user default on nopass ~* &* +@all"
			if pass != "" {
				sum := sha256.Sum256([]byte(pass))
				line = "user default on #" + hex.EncodeToString(sum[:]) + " ~* &* +@all"
			}
			role := "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"ROLE"}, role},
				{[]string{"LASTSAVE"}, ":" + strconv.FormatInt(ts.started.Unix(), 10) + "\r\n"},
				{[]string{"ACL", "WHOAMI"}, "$7\r\ndefault\r\n"},
				{[]string{"ACL", "USERS"}, "*1\r\n$7\r\ndefault\r\n"},
				{[]string{"ACL", "LIST"}, "*1\r\n$" + strconv.Itoa(len(line)) + "\r\n" + line + "\r\n"},
				{[]string{"MEMORY", "DOCTOR"}, "$268\r\nHi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n\r\n"},
				{[]string{"HELLO", "3"}, ""},
				{[]string{"ROLE"}, role},
			} {
				if got := r.do(tc.args...); tc.want != "" && got != tc.want {
					t.Errorf("%q: got %q, want %q", tc.args, got, tc.want)
				}
			}
			for _, tc := range []struct {
				args   []string
				prefix string
			}{
				{[]string{"FUNCTION", "LIST"}, "-ERR FUNCTION is not supported by dynakv: "},
				{[]string{"FUNCTION", "FLUSH"}, "-ERR FUNCTION is not supported by dynakv: "},
				{[]string{"FCALL", "f", "0"}, "-ERR FCALL is not supported by dynakv: "},
				{[]string{"DEBUG", "SLEEP", "0"}, "-ERR DEBUG is not supported by dynakv: "},
			} {
				if got := r.do(tc.args...); !strings.HasPrefix(got, tc.prefix) {
					t.Errorf("%q: got %q, want %q…", tc.args, got, tc.prefix)
				}
			}
		})
	}
}

// TestConformanceCompat compares with redis-server the replies that
// exist in both: CONFIG GET hz/bind (not several patterns at once: Redis
// orders their matches by its hash table), CONFIG SET's duplicate
// error and save "", ROLE (RESP2 and RESP3), ACL WHOAMI/USERS/LIST (with
// and without requirepass), MEMORY DOCTOR on an empty instance.
func TestConformanceCompat(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		t.Run("requirepass="+pass, func(t *testing.T) {
			var extra []string
			if pass != "" {
				extra = []string{"--requirepass", pass}
			}
			redisAddr := startRedis(t, extra...)
			ts := startServer(t, Config{RequirePass: pass})
			var script [][]string
			if pass != "" {
				script = append(script, []string{"ACL", "WHOAMI"}, []string{"AUTH", pass})
			}
			script = append(script, [][]string{
				{"CONFIG", "GET", "hz"}, {"CONFIG", "GET", "bind"}, {"CONFIG", "GET", "maxmemory"},
				{"CONFIG", "SET", "hz", "10", "hz", "20"}, {"CONFIG", "SET", "save", ""}, {"CONFIG", "GET", "save"},
				{"ROLE"}, {"ACL", "WHOAMI"}, {"ACL", "USERS"}, {"ACL", "LIST"}, {"MEMORY", "DOCTOR"},
				{"HELLO", "3"}, {"ROLE"}, {"ACL", "WHOAMI"}, {"ACL", "LIST"}, {"CONFIG", "GET", "hz"}, {"MEMORY", "DOCTOR"},
			}...)
			compareReplies(t, redisAddr, ts.addr, script)
		})
	}
}
