package logmux

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Escape makes untrusted text safe to print on a terminal as part of one of
// ganger's own messages: a file name from the repository, a value from an
// env file. Control characters (C0 but tab and newline, DEL, C1) and bytes
// that are not UTF-8 are written as Go escapes (\x1b, \a, \u009b), so a
// name such as "src/evil\x1b]0;PWNED\a.go" cannot retitle the terminal or
// move its cursor. Processes' own output is never escaped: it passes as it
// is, colours and progress bars included.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case isControl(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c >= 0x7f {
			if c >= 0x80 {
				return !utf8.ValidString(s) || strings.ContainsFunc(s, isControl)
			}
			return true
		}
	}
	return false
}

// isControl reports whether r is a control character a terminal acts on,
// other than tab and newline.
func isControl(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f
}
