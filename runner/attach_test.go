//go:build linux

package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tapReader reads an Attachment on a goroutine of its own and lets the test
// wait for what it has read.
type tapReader struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	err  error         // set once Read has failed
	news chan struct{} // a token after each read
}

func readTap(a *Attachment) *tapReader {
	tr := &tapReader{news: make(chan struct{}, 1)}
	go func() {
		p := make([]byte, 4096)
		for {
			n, err := a.Read(p)
			tr.mu.Lock()
			tr.buf.Write(p[:n])
			if err != nil {
				tr.err = err
			}
			tr.mu.Unlock()
			select {
			case tr.news <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return tr
}

// waitFor waits until cond holds for what was read and the read error.
func (tr *tapReader) waitFor(t *testing.T, what string, cond func(out string, err error) bool) string {
	t.Helper()
	deadline := time.NewTimer(testDeadline)
	defer deadline.Stop()
	for {
		tr.mu.Lock()
		out, err := tr.buf.String(), tr.err
		tr.mu.Unlock()
		if cond(out, err) {
			return out
		}
		select {
		case <-tr.news:
		case <-deadline.C:
			t.Fatalf("no %s within %v; read %q (err %v)", what, testDeadline, out, err)
		}
	}
}

func (tr *tapReader) waitText(t *testing.T, s string) string {
	t.Helper()
	return tr.waitFor(t, "output "+strconv.Quote(s), func(out string, err error) bool { return strings.Contains(out, s) })
}

func (tr *tapReader) waitEOF(t *testing.T) string {
	t.Helper()
	return tr.waitFor(t, "end of output", func(out string, err error) bool { return err != nil })
}

// repl is a program that reads lines from its terminal and answers them.
type repl struct {
	argv      []string
	calc      string // typed: prints 42
	size      string // typed: prints the terminal size, as sizeWant
	sizeWant  string // for 100 columns and 30 rows
	exit      string // typed: ends it
	firstSeen string // printed once it reads
}

// pickREPL is python3 when there is one, else a shell loop.
func pickREPL(t *testing.T) repl {
	if py, err := exec.LookPath("python3"); err == nil {
		return repl{
			argv: []string{py, "-q", "-i"}, calc: "print(6*7)\n",
			size: "import os; print(os.get_terminal_size())\n", sizeWant: "columns=100, lines=30",
			exit: "exit()\n", firstSeen: ">>> ",
		}
	}
	t.Log("python3 not found: a shell loop stands in for the REPL")
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("neither python3 nor sh on PATH")
	}
	return repl{
		argv: []string{sh, "-c", `printf 'ready> '; while IFS= read -r l; do eval "$l"; printf 'ready> '; done`},
		calc: "echo $((6*7))\n", size: "stty size\n", sizeWant: "30 100", exit: "exit 0\n", firstSeen: "ready> ",
	}
}

// TestAttach drives a REPL on a terminal through two attachments: input
// reaches it, output (a prompt without a newline included) comes back raw,
// a resize reaches it, a closed attachment leaves it running, and its exit
// ends the others' output.
func TestAttach(t *testing.T) {
	rp := pickREPL(t)
	spec := Spec{Name: "repl.1", Argv: rp.argv, Env: []string{"PATH=" + os.Getenv("PATH"), "TERM=dumb"},
		TTY: &TTY{Cols: 80, Rows: 24, Input: true}}
	h := startRun(t, Options{Timeout: 5 * time.Second}, []Spec{spec})
	// The prompt is written once the REPL reads: attaching before it would
	// miss nothing, but the test wants to see it come through the tap.
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	h.rec.waitFor(t, "the process to start", func() bool {
		return h.rec.indexLocked(func(e recEntry) bool { return e.event != nil && e.event.Kind == Started }) >= 0
	})

	a, err := h.sup.Attach(ctx, "repl.1")
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	b, err := h.sup.Attach(ctx, "repl.1")
	if err != nil {
		t.Fatalf("second Attach: %v", err)
	}
	ra, rb := readTap(a), readTap(b)
	if _, err := a.Write([]byte(rp.calc)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, r := range []*tapReader{ra, rb} {
		out := r.waitText(t, "42\r\n") // raw: the terminal's CR LF
		if !strings.Contains(out, rp.firstSeen) {
			// The prompt may have been written before the attach; the
			// one after the answer must come through, without a newline.
			r.waitFor(t, "a prompt after the answer", func(out string, err error) bool {
				_, after, _ := strings.Cut(out, "42\r\n")
				return strings.Contains(after, rp.firstSeen)
			})
		}
	}
	// The Sink still gets lines (a prompt may come before the answer: the
	// terminal echoes input as it is typed, before the REPL reads it).
	h.rec.waitFor(t, "repl.1 to print a line ending in 42", func() bool {
		return h.rec.indexLocked(func(e recEntry) bool {
			return e.event == nil && e.name == "repl.1" && strings.HasSuffix(e.line, "42")
		}) >= 0
	})

	if err := a.Resize(100, 30); err != nil {
		t.Fatalf("Resize: %v", err)
	}
	if _, err := b.Write([]byte(rp.size)); err != nil { // input from either
		t.Fatalf("Write: %v", err)
	}
	ra.waitText(t, rp.sizeWant)

	a.Close()
	ra.waitEOF(t)
	if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write after Close: %v, want io.ErrClosedPipe", err)
	}
	sts, err := h.sup.Status(ctx)
	if err != nil || len(sts) != 1 || sts[0].State != StateRunning {
		t.Fatalf("after Close: status %+v (%v), want repl.1 running", sts, err)
	}

	if _, err := b.Write([]byte(rp.exit)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	rb.waitEOF(t)
	if _, err := h.wait(t); err != nil {
		t.Fatal(err)
	}
	if e := h.rec.event(t, Exited, "repl.1"); e.Code != 0 {
		t.Errorf("the REPL exited with code %d, want 0", e.Code)
	}
}

// TestAttachRefused checks the errors of Attach.
func TestAttachRefused(t *testing.T) {
	dir := t.TempDir()
	pipe := helper("pipe.1", "group", "die", "none", filepath.Join(dir, "p"))
	quiet := helper("quiet.1", "group", "die", "none", filepath.Join(dir, "q"))
	quiet.TTY = &TTY{}
	gone := helper("gone.1", "exit", "0")
	gone.TTY = &TTY{Input: true}
	gone.CanDie = true
	h := startRun(t, Options{Timeout: 5 * time.Second}, []Spec{pipe, quiet, gone})
	h.rec.waitLine(t, "pipe.1", "ready")
	h.rec.waitLine(t, "quiet.1", "ready")
	h.rec.waitFor(t, "gone.1 to exit", func() bool {
		return h.rec.indexLocked(func(e recEntry) bool { return e.event != nil && e.event.Kind == Exited }) >= 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	for _, tc := range []struct{ name, want string }{
		{"pipe.1", "pipe.1 does not run on a terminal; hint: set tty: true for it in ganger.yml, or start ganger detached from a terminal (ganger start -D)"},
		{"quiet.1", "quiet.1 runs on a terminal that does not take input"},
		{"gone.1", "gone.1 is not running"},
		{"pipe", "pipe is a process type; attach to one of its instances: pipe.1"},
		{"nope.1", `unknown process "nope.1"; known: pipe.1, quiet.1, gone.1`},
	} {
		a, err := h.sup.Attach(ctx, tc.name)
		if err == nil {
			a.Close()
			t.Errorf("Attach(%s) succeeded, want %q", tc.name, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Attach(%s): %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestAttachmentFallsBehind checks that an attachment that is not read
// keeps the newest AttachBuffer bytes, in order, and counts the rest.
func TestAttachmentFallsBehind(t *testing.T) {
	tm := newTerm("x.1", nil)
	a := tm.attach()
	var all []byte
	for i := 0; len(all) < 3*AttachBuffer+123; i++ {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i%7000)
		all = append(all, chunk...)
		tm.write(chunk)
	}
	big := bytes.Repeat([]byte("Z"), AttachBuffer+5) // one read larger than the buffer
	all = append(all, big...)
	tm.write(big)
	tail := []byte("tail")
	all = append(all, tail...)
	tm.write(tail)
	tm.end()
	got, err := io.ReadAll(a)
	if err != nil {
		t.Fatal(err)
	}
	want := all[len(all)-AttachBuffer:]
	if !bytes.Equal(got, want) {
		t.Errorf("read %d bytes, want the last %d written (equal: %v)", len(got), len(want), bytes.Equal(got, want))
	}
	if d := a.Dropped(); d != int64(len(all)-AttachBuffer) {
		t.Errorf("Dropped() = %d, want %d", d, len(all)-AttachBuffer)
	}
	// A reader that keeps up loses nothing, across the ring's wrap.
	tm = newTerm("y.1", nil)
	a = tm.attach()
	var got2, all2 []byte
	p := make([]byte, 3000)
	for i := range 2000 {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i%2500)
		all2 = append(all2, chunk...)
		tm.write(chunk)
		n, _ := a.Read(p)
		got2 = append(got2, p[:n]...)
	}
	tm.end()
	rest, _ := io.ReadAll(a)
	got2 = append(got2, rest...)
	if !bytes.Equal(got2, all2) || a.Dropped() != 0 {
		t.Errorf("a reader keeping up got %d of %d bytes (dropped %d)", len(got2), len(all2), a.Dropped())
	}
}
