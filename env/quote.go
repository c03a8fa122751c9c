package env

import "strings"

// Quote renders value so that Parse reads "KEY=" + Quote(value) back as
// exactly value: bare when every byte is a letter, digit or one of
// "_-./:@%+,=^", else as DoubleQuote writes it. The bare set is also safe
// for sh, so a file of bare values can be sourced. A value holding a NUL
// byte cannot be written: Parse rejects NUL bytes.
func Quote(value string) string {
	if value != "" && isBare(value) {
		return value
	}
	return DoubleQuote(value)
}

// DoubleQuote renders value always in double quotes, with \\ \" \$ \n \r
// \t escaped and every other byte as it is, so that Parse reads
// "KEY=" + DoubleQuote(value) back as exactly value and expands nothing.
// It is for writers that want every value quoted whatever it holds.
func DoubleQuote(value string) string {
	var b strings.Builder
	b.Grow(len(value) + 2)
	b.WriteByte('"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\', '"', '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isBare(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isKeyChar(c) && !strings.ContainsRune("-/:@%+,=^", rune(c)) {
			return false
		}
	}
	return true
}
