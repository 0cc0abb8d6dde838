package node

import (
	"bufio"
	"strings"
	"testing"
)

// TestReadReplyReturnsOneRawReply: readReply returns exactly one RESP2
// reply, byte for byte, whatever its type and nesting, leaving the next
// one unread; a malformed reply is an error.
func TestReadReplyReturnsOneRawReply(t *testing.T) {
	replies := []string{
		"+OK\r\n",
		"-ERR wrong type\r\n",
		":42\r\n",
		"$-1\r\n",
		"*-1\r\n",
		"$0\r\n\r\n",
		"$4\r\na\r\nb\r\n", // CRLF inside a bulk
		"*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n+s\r\n",
		"*0\r\n",
	}
	br := bufio.NewReader(strings.NewReader(strings.Join(replies, "")))
	for _, want := range replies {
		got, err := readReply(br, nil, 0)
		if err != nil || string(got) != want {
			t.Fatalf("readReply = %q, %v; want %q", got, err, want)
		}
	}
	for _, bad := range []string{"?x\r\n", "$x\r\n", "$5\r\nab\r\n", "+OK\n", "*2\r\n:1\r\n"} {
		if got, err := readReply(bufio.NewReader(strings.NewReader(bad)), nil, 0); err == nil {
			t.Errorf("readReply(%q) = %q, want an error", bad, got)
		}
	}
}
