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

// benchChunk is what a busy process hands over at once: 256 KiB of 100-byte
// lines.
var benchChunk = bytes.Repeat([]byte(strings.Repeat("x", 99)+"\n"), 2621)

// BenchmarkRender renders a busy chunk into a reused buffer, as a process's
// writer does. Compare with BenchmarkRenderBaselineCopy, a plain copy of the
// same bytes: the prefix work is the difference.
func BenchmarkRender(b *testing.B) {
	pre := prefix{head: []byte("\x1b[36m"), tail: []byte(" web.1  |\x1b[0m ")}
	ts := []byte("12:00:00")
	var dst []byte
	b.SetBytes(int64(len(benchChunk)))
	for b.Loop() {
		dst = render(dst[:0], benchChunk, pre, ts)
	}
}

func BenchmarkRenderBaselineCopy(b *testing.B) {
	var dst []byte
	b.SetBytes(int64(len(benchChunk)))
	for b.Loop() {
		dst = append(dst[:0], benchChunk...)
	}
}
