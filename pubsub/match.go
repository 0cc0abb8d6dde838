package pubsub

// maxMatchNesting bounds the recursion of Match on '*', as Redis's
// stringmatchlen does (a pattern of many stars fails rather than runs for
// ever).
const maxMatchNesting = 1000

// Match reports whether s matches the glob pattern exactly as Redis's
// stringmatchlen (util.c, Redis 7.0) decides it, byte by byte: '*' any
// run of bytes, '?' any one byte, "[abc]", "[^abc]", "[a-z]" (bounds in
// either order) a class, '\' escapes the next byte (also inside a class),
// and an unclosed '[' ends the class at the pattern's end. PSUBSCRIBE,
// PUBSUB CHANNELS and PUBSUB SHARDCHANNELS match with it. (tidwall/match,
// which KEYS uses, has no classes and matches runes, not bytes.)
func Match(pattern, s []byte) bool {
	skip := false
	return match(pattern, s, &skip, 0)
}

func match(p, s []byte, skipLonger *bool, nesting int) bool {
	if nesting > maxMatchNesting {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if match(p[1:], s, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			// NB: no match of the rest anywhere in s: a longer match of an
			// earlier '*' cannot help either (Redis's skipLongerMatches).
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			matched := false
			for {
				if len(p) == 0 {
					// Unclosed class: Redis steps back onto the last byte,
					// which the step below passes.
					p = []byte{0}
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						matched = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi, c := p[0], p[2], s[0]
					if lo > hi {
						lo, hi = hi, lo
					}
					p = p[2:]
					if c >= lo && c <= hi {
						matched = true
					}
				} else if p[0] == s[0] {
					matched = true
				}
				p = p[1:]
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
