package resp

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestBlockingZSetWokenByWrite: BZPOPMIN, BZPOPMAX and BZMPOP, blocked on
// empty keys, are served by a later ZADD through another connection,
// with Redis's reply shape, and pop only what they reply; on a timeout
// they reply null.
func TestBlockingZSetWokenByWrite(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		other := ts.client(t, 2, "")
		for _, tc := range []struct {
			name string
			args []any
			want string
			left string // {q}b's members after
		}{
			{"bzpopmin", []any{"BZPOPMIN", "{q}a", "{q}b", 10}, "[{q}b x 1]", "[y]"},
			{"bzpopmax", []any{"BZPOPMAX", "{q}a", "{q}b", 10}, "[{q}b y 2]", "[x]"},
			{"bzmpop", []any{"BZMPOP", 10, 2, "{q}a", "{q}b", "MIN", "COUNT", 5}, "[{q}b [[x 1] [y 2]]]", "[]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := other.Del(bg, "{q}a", "{q}b").Err(); err != nil {
					t.Fatal(err)
				}
				got := make(chan string, 1)
				go func() {
					v, err := c.Do(bg, tc.args...).Result()
					got <- fmt.Sprintf("%v %v", v, err)
				}()
				waitBlocked(t, ts, 1)
				if err := other.ZAdd(bg, "{q}b", redis.Z{Score: 1, Member: "x"}, redis.Z{Score: 2, Member: "y"}).Err(); err != nil {
					t.Fatal(err)
				}
				if g := <-got; g != tc.want+" <nil>" {
					t.Fatalf("%v = %s, want %s", tc.args, g, tc.want)
				}
				waitBlocked(t, ts, 0)
				if l := fmt.Sprint(other.ZRange(bg, "{q}b", 0, -1).Val()); l != tc.left {
					t.Fatalf("{q}b after: %s, want %s", l, tc.left)
				}
			})
		}
		if err := c.Do(bg, "BZPOPMIN", "nokey", "0.05").Err(); err != redis.Nil {
			t.Fatalf("BZPOPMIN timeout: %v, want nil", err)
		}
		if err := c.Do(bg, "BZMPOP", "0.05", 1, "nokey", "MAX").Err(); err != redis.Nil {
			t.Fatalf("BZMPOP timeout: %v, want nil", err)
		}
	})
}
