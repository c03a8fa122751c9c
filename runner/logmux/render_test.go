package logmux

import (
	"bytes"
	"strings"
	"testing"
)

// A busy process's chunk (256 KiB of 100-byte lines) is rendered into a
// buffer allocated once, not regrown line by line on the log's hot path.
func TestRenderAllocatesOnce(t *testing.T) {
	chunk := bytes.Repeat([]byte(strings.Repeat("x", 99)+"\n"), 2621)
	pre := prefix{head: []byte("\x1b[36m"), tail: []byte(" web.1  |\x1b[0m ")}
	var out []byte
	allocs := testing.AllocsPerRun(10, func() { out = render(nil, chunk, pre, []byte("12:00:00")) })
	// One buffer; the race detector's build may add one of its own. Growing
	// line by line takes about twenty.
	if allocs > 2 {
		t.Errorf("render allocated %v times for one chunk, want 1", allocs)
	}
	if want := len(chunk) + 2621*(len(pre.head)+8+len(pre.tail)); len(out) != want {
		t.Errorf("rendered %d bytes, want %d", len(out), want)
	}
}
