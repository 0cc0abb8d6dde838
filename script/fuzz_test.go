package script

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// FuzzDecoders: cmsgpack.unpack and the RESP reply parser never panic on
// any input, and a value cmsgpack decodes packs back to a prefix-free
// encoding that decodes again.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{"\x99\x01\xff\xcc\xc8", "\xdc\xff\xff", "\xdb\xff\xff\xff\xff", "*2\r\n$1\r\na\r\n%1\r\n+x\r\n:1\r\n", "$-1\r\n", "=5\r\ntxt:x\r\n"} {
		f.Add([]byte(s))
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseReply(L, b, 0)
		v, _, ok := msgpackDecode(L, b, 0)
		if !ok {
			return
		}
		enc := msgpackEncode(nil, v, 0)
		if _, rest, ok := msgpackDecode(L, enc, 0); !ok || len(rest) != 0 {
			t.Fatalf("%q decoded, packed to %q, which does not decode alone", b, enc)
		}
	})
}
