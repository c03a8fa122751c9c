package logmux

import "testing"

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\tand\nnewline", "tab\tand\nnewline"},
		{"src/evil\x1b]0;PWNED\aname.go", `src/evil\x1b]0;PWNED\aname.go`},
		{"red \x1b[31mtext", `red \x1b[31mtext`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bad \xff byte", `bad \xff byte`},
		{"héllo ✓", "héllo ✓"},
		{"\r\x00", `\r\x00`},
	} {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
