package logmux

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestPrefixWidth checks PrefixWidth against what is rendered.
func TestPrefixWidth(t *testing.T) {
	for _, o := range []Options{
		{Timestamp: true, Prefix: true},
		{Timestamp: true},
		{Prefix: true},
		{},
		{Timestamp: true, Prefix: true, Names: []string{"a-long-name.1", "web.1"}},
	} {
		o.Now = func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }
		var b bytes.Buffer
		m := New(&b, o)
		if err := m.Lines("web.1").WriteLines([]byte("TEXT\n")); err != nil {
			t.Fatal(err)
		}
		if got, want := m.PrefixWidth(), strings.Index(b.String(), "TEXT"); got != want {
			t.Errorf("%+v: PrefixWidth = %d, rendered %q has %d", o, got, b.String(), want)
		}
	}
}
