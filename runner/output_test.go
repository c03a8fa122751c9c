package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDropCR(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"a\n", "a\n"},
		{"a\r\n", "a\n"},
		{"a\r\nb\r\nc\r\n", "a\nb\nc\n"},
		{"\r\n\r\n", "\n\n"},
		{"a\r\r\n", "a\r\n"}, // a CR LF the program wrote, after the terminal's translation
		{"progress 1\rprogress 2\r\n", "progress 1\rprogress 2\n"},
		{"\xff\xfe\r\n\xc3\x28\n", "\xff\xfe\n\xc3\x28\n"},
		{"no newline\r", "no newline\r"},
	} {
		if got := string(dropCR([]byte(tc.in))); got != tc.want {
			t.Errorf("dropCR(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// recorder is a Sink that keeps everything.
type recorder struct {
	mu     sync.Mutex
	out    map[string]*bytes.Buffer
	events []Event
}

func newRecorder() *recorder { return &recorder{out: map[string]*bytes.Buffer{}} }

type recLines struct {
	r    *recorder
	name string
}

func (l recLines) WriteLines(p []byte) error {
	if len(p) == 0 || p[len(p)-1] != '\n' {
		return fmt.Errorf("WriteLines given %q: not whole lines", p)
	}
	l.r.mu.Lock()
	defer l.r.mu.Unlock()
	l.r.out[l.name].Write(p)
	return nil
}

func (r *recorder) Lines(name string) LineWriter {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out[name] = &bytes.Buffer{}
	return recLines{r, name}
}

func (r *recorder) Event(e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) output(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out[name].String()
}

func (r *recorder) pid(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Kind == Started && e.Name == name {
			return e.PID
		}
	}
	return 0
}

// TestTTY runs a shell on a terminal and on a pipe and compares what it sees.
func TestTTY(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to read the process group and session")
	}
	// $$ is the shell; fields 5 and 6 of /proc/PID/stat are its pgrp and
	// session. printf leaves the last line without a newline.
	script := `test -t 1 && echo "stdout is a terminal"; test -t 2 && echo "stderr is a terminal" >&2
test -t 0 || echo "stdin is not a terminal"
echo "size $(stty size </dev/tty 2>/dev/null)" # /dev/tty: the controlling terminal
set -- $(cut -d' ' -f5,6 /proc/$$/stat); echo "pgrp=$1 sid=$2"
printf 'bytes \377\376\r\nlast line'`
	for _, tc := range []struct {
		name string
		tty  *TTY
	}{
		{"tty", &TTY{Cols: 100, Rows: 30}},
		{"pipe", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			sup := New(Options{Timeout: 5 * time.Second, Sink: rec})
			res, err := sup.Run(ctx, []Spec{{Name: "sh.1", Argv: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=" + os.Getenv("PATH")}, TTY: tc.tty}})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if res.Code != 0 || res.Interrupted {
				t.Fatalf("result %+v, want a clean exit", res)
			}
			out := rec.output("sh.1")
			pid := rec.pid("sh.1")
			want := []string{
				"stdin is not a terminal\n",
				"bytes \xff\xfe\r\n", // the CR the program wrote stays
				"last line\n",
			}
			if tc.tty != nil {
				want = append(want,
					"stdout is a terminal\n",
					"stderr is a terminal\n",
					"size 30 100\n",
					fmt.Sprintf("pgrp=%d sid=%d\n", pid, pid), // a session leader
				)
				if strings.Contains(strings.ReplaceAll(out, "\xfe\r\n", ""), "\r") {
					t.Errorf("output has a CR from the terminal:\n%q", out)
				}
			} else {
				want = append(want, fmt.Sprintf("pgrp=%d sid=", pid)) // its own group
				if strings.Contains(out, "is a terminal\n") {
					t.Errorf("on a pipe, a stream is a terminal:\n%q", out)
				}
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%q", w, out)
				}
			}
		})
	}
}
