package procfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

type parseCase struct {
	name string
	in   string
	want []Entry // when err is ""
	err  string  // the exact Error() text
}

func ent(name, command string, line int) Entry {
	return Entry{Name: name, Command: command, Line: line}
}

const noProcesses = `Procfile: no processes defined; hint: add a line such as "web: ./server"`

// parseCases covers every Procfile rule of procfile/doc.go: each accepted
// and each refused form, with the error it gives. It also
// seeds FuzzParse.
func parseCases() []parseCase {
	return []parseCase{
		// Accepted input.
		{name: "basic", in: "web: bundle exec puma\nworker: rake jobs:work\n",
			want: []Entry{ent("web", "bundle exec puma", 1), ent("worker", "rake jobs:work", 2)}},
		{name: "no final newline", in: "web: a\nworker: b",
			want: []Entry{ent("web", "a", 1), ent("worker", "b", 2)}},
		{name: "bom stripped", in: "\uFEFFweb: a\nworker: b\n",
			want: []Entry{ent("web", "a", 1), ent("worker", "b", 2)}},
		{name: "crlf", in: "web: a\r\nworker: b \r\n",
			want: []Entry{ent("web", "a", 1), ent("worker", "b", 2)}},
		{name: "lone cr", in: "web: a\rworker: b\r",
			want: []Entry{ent("web", "a", 1), ent("worker", "b", 2)}},
		{name: "lf then cr is two line ends", in: "web: a\n\rworker: b",
			want: []Entry{ent("web", "a", 1), ent("worker", "b", 3)}},
		{name: "mixed line ends", in: "# c\r\n\rweb: a\n\r\nworker: b",
			want: []Entry{ent("web", "a", 3), ent("worker", "b", 5)}},
		{name: "indented", in: "  web: a\n\t worker: b\n",
			want: []Entry{ent("web", "a", 1), ent("worker", "b", 2)}},
		{name: "blank before colon", in: "web : ./server\nworker\t:\t./work\n",
			want: []Entry{ent("web", "./server", 1), ent("worker", "./work", 2)}},
		{name: "no space after colon", in: "web:./server",
			want: []Entry{ent("web", "./server", 1)}},
		{name: "colon in command", in: "web: ruby -e 'p 1:2' http://localhost:5000/x\n",
			want: []Entry{ent("web", "ruby -e 'p 1:2' http://localhost:5000/x", 1)}},
		{name: "colon right after colon", in: "web:: x",
			want: []Entry{ent("web", ": x", 1)}},
		{name: "hash after colon verbatim", in: "web: ./server # the shell decides\nworker:#x\n",
			want: []Entry{ent("web", "./server # the shell decides", 1), ent("worker", "#x", 2)}},
		{name: "trailing blanks trimmed", in: "web: ./server  \t \nworker:\t ./w\t\n",
			want: []Entry{ent("web", "./server", 1), ent("worker", "./w", 2)}},
		{name: "inner blanks kept", in: "web:  a   b\t\tc  ",
			want: []Entry{ent("web", "a   b\t\tc", 1)}},
		{name: "other whitespace kept", in: "web: a\v\n",
			want: []Entry{ent("web", "a\v", 1)}},
		{name: "comments and blanks skipped", in: "# top\n\n   \n\t# indented comment\n#web: old\nweb: a\n",
			want: []Entry{ent("web", "a", 6)}},
		{name: "name charset", in: "my-worker_2: x\nA-Z_0: y\n-: z\n",
			want: []Entry{ent("my-worker_2", "x", 1), ent("A-Z_0", "y", 2), ent("-", "z", 3)}},
		{name: "names are case-sensitive", in: "web: a\nWeb: b\n",
			want: []Entry{ent("web", "a", 1), ent("Web", "b", 2)}},
		{name: "release parsed", in: "release: ./migrate\nweb: ./server\n",
			want: []Entry{ent("release", "./migrate", 1), ent("web", "./server", 2)}},
		{name: "63-char name", in: strings.Repeat("a", 63) + ": x",
			want: []Entry{ent(strings.Repeat("a", 63), "x", 1)}},
		{name: "unicode command", in: "web: echo héllo → 世界\n",
			want: []Entry{ent("web", "echo héllo → 世界", 1)}},

		// No entries.
		{name: "empty file", in: "", err: noProcesses},
		{name: "bom only", in: "\uFEFF", err: noProcesses},
		{name: "blank lines only", in: "\n \r\n\t\r", err: noProcesses},
		{name: "comments only", in: "# web: ./server\n  # worker: x\n", err: noProcesses},

		// One error.
		{name: "invalid line", in: "web: a\nworker: b\nfoo bar\n",
			err: `Procfile:3: not a process entry "foo bar"; hint: entries look like "web: bundle exec puma"`},
		{name: "invalid line trimmed", in: "  \tfoo bar \t",
			err: `Procfile:1: not a process entry "foo bar"; hint: entries look like "web: bundle exec puma"`},
		{name: "blank inside name", in: "web server: ./s",
			err: `Procfile:1: not a process entry "web server: ./s"; hint: entries look like "web: bundle exec puma"`},
		{name: "missing name", in: " : ./s",
			err: `Procfile:1: not a process entry ": ./s"; hint: the process name before ':' is missing; entries look like "web: bundle exec puma"`},
		{name: "control characters quoted", in: "web: a\n\x00\x1b[31m\n",
			err: `Procfile:2: not a process entry "\x00\x1b[31m"; hint: entries look like "web: bundle exec puma"`},
		{name: "long invalid line cut", in: strings.Repeat("ab", 100),
			err: `Procfile:1: not a process entry "` + strings.Repeat("ab", 30) + `"...; hint: entries look like "web: bundle exec puma"`},
		{name: "merge conflict", in: "<<<<<<< HEAD\nweb: a\n",
			err: `Procfile:1: not a process entry "<<<<<<< HEAD"; hint: this looks like a merge conflict marker; resolve the conflict`},
		{name: "dot in name", in: "web.1: ./server",
			err: `Procfile:1: invalid process name "web.1": '.' is not allowed; hint: names are letters, digits, '_' and '-'`},
		{name: "non-ascii name", in: "wéb: ./server",
			err: `Procfile:1: invalid process name "wéb": 'é' is not allowed; hint: names are letters, digits, '_' and '-'`},
		{name: "bom after first line", in: "web: a\n\uFEFFworker: b",
			err: `Procfile:2: invalid process name "\ufeffworker": '\ufeff' is not allowed; hint: names are letters, digits, '_' and '-'`},
		{name: "invalid utf-8 in name", in: "w\xffb: x",
			err: `Procfile:1: invalid process name "w\xffb": byte 0xff is not allowed; hint: names are letters, digits, '_' and '-'`},
		{name: "env assignment", in: "PATH=/usr/bin:/bin",
			err: `Procfile:1: invalid process name "PATH=/usr/bin": '=' is not allowed; hint: names are letters, digits, '_' and '-'`},
		{name: "64-char name", in: strings.Repeat("a", 64) + ": x",
			err: `Procfile:1: process name "` + strings.Repeat("a", 60) + `"... is 64 characters long; hint: names are at most 63 characters`},
		{name: "empty command", in: "worker: w\nweb:",
			err: `Procfile:2: process "web" has no command`},
		{name: "blank command", in: "worker: w\nweb:   \n",
			err: `Procfile:2: process "web" has no command`},
		{name: "tab command crlf", in: "web:\t\r\n",
			err: `Procfile:1: process "web" has no command`},
		{name: "duplicate", in: "web: a\nworker: b\n\n# c\nweb: c\n",
			err: `Procfile:5: duplicate process "web" (first at line 1)`},
		{name: "duplicate after blank before colon", in: "web: a\nweb : b",
			err: `Procfile:2: duplicate process "web" (first at line 1)`},
		{name: "NUL byte in a command", in: "web: ./server\x00 -p 5000\n",
			err: `Procfile:1: the command of "web" holds a NUL byte at column 14; hint: a program cannot receive one; remove it (is the Procfile a binary file?)`},
		{name: "NUL byte after unicode", in: "worker: a\n  web:\t→ é\x00",
			err: `Procfile:2: the command of "web" holds a NUL byte at column 11; hint: a program cannot receive one; remove it (is the Procfile a binary file?)`},
		{name: "trailing NUL byte", in: "web: ./server \x00",
			err: `Procfile:1: the command of "web" holds a NUL byte at column 15; hint: a program cannot receive one; remove it (is the Procfile a binary file?)`},
		{name: "command over MaxCommand", in: "web: " + strings.Repeat("x", MaxCommand+1),
			err: `Procfile:1: the command of "web" is 131067 bytes long; hint: Linux passes at most 131066 bytes to the shell (128 KiB per argument); move the command into a script and run that`},

		// Every error is reported.
		{name: "two bad lines", in: "web: a\nfoo\nworker: b\nbar baz\n",
			err: `Procfile:2: not a process entry "foo"; hint: entries look like "web: bundle exec puma"` + "\n" +
				`Procfile:4: not a process entry "bar baz"; hint: entries look like "web: bundle exec puma"`},
		{name: "one of each error", in: "web: a\nweb.x: b\nworker:\nweb: c\njunk\n",
			err: `Procfile:2: invalid process name "web.x": '.' is not allowed; hint: names are letters, digits, '_' and '-'` + "\n" +
				`Procfile:3: process "worker" has no command` + "\n" +
				`Procfile:4: duplicate process "web" (first at line 1)` + "\n" +
				`Procfile:5: not a process entry "junk"; hint: entries look like "web: bundle exec puma"`},
		{name: "only bad lines: no extra no-processes error", in: "foo\n",
			err: `Procfile:1: not a process entry "foo"; hint: entries look like "web: bundle exec puma"`},
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(strings.NewReader(tc.in), "Procfile")
			checkParse(t, tc, p, err)
		})
	}
}

// TestParseOneByteReads checks that how the reader splits the input does not
// matter (a CRLF or a BOM may straddle two reads).
func TestParseOneByteReads(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(iotest.OneByteReader(strings.NewReader(tc.in)), "Procfile")
			checkParse(t, tc, p, err)
		})
	}
}

func checkParse(t *testing.T, tc parseCase, p *Procfile, err error) {
	t.Helper()
	if tc.err != "" {
		if err == nil {
			t.Fatalf("Parse(%q) = %+v, want error %q", tc.in, p.Entries, tc.err)
		}
		if got := err.Error(); got != tc.err {
			t.Fatalf("Parse(%q) error:\n got %s\nwant %s", tc.in, got, tc.err)
		}
		if p != nil {
			t.Errorf("Parse returned a Procfile with an error: %+v", p)
		}
		for _, le := range lineErrors(t, err) {
			if le.Path != "Procfile" {
				t.Errorf("LineError.Path = %q, want Procfile", le.Path)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("Parse(%q): %v", tc.in, err)
	}
	if p.Path != "Procfile" {
		t.Errorf("Path = %q, want Procfile", p.Path)
	}
	if !reflect.DeepEqual(p.Entries, tc.want) {
		t.Errorf("Parse(%q) entries:\n got %+v\nwant %+v", tc.in, p.Entries, tc.want)
	}
}

// lineErrors flattens a Parse error into its *LineErrors, failing the test
// when any leaf is something else.
func lineErrors(t *testing.T, err error) []*LineError {
	t.Helper()
	var out []*LineError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case *LineError:
			out = append(out, e)
		default:
			t.Errorf("error %v is a %T, want *LineError", err, err)
		}
	}
	walk(err)
	return out
}

func TestParseReturnsAllErrorsAsLineErrors(t *testing.T) {
	in := "web: a\nfoo\n\nworker:\nweb: b\n"
	_, err := Parse(strings.NewReader(in), "apps/Procfile.dev")
	if err == nil {
		t.Fatal("no error")
	}
	var got []int
	for _, le := range lineErrors(t, err) {
		got = append(got, le.Line)
		if le.Path != "apps/Procfile.dev" {
			t.Errorf("Path = %q, want the path as given", le.Path)
		}
	}
	if want := []int{2, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("error lines = %v, want %v", got, want)
	}
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("errors.As gave %+v, want the line 2 error", le)
	}

	_, err = Parse(strings.NewReader("# nothing\n"), "Procfile")
	les := lineErrors(t, err)
	if len(les) != 1 || les[0].Line != 0 {
		t.Errorf("empty Procfile errors = %+v, want one with Line 0", les)
	}
}

func TestLineErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    LineError
		want string
	}{
		{LineError{Path: "Procfile", Line: 3, Msg: "bad"}, "Procfile:3: bad"},
		{LineError{Path: "Procfile", Line: 3, Msg: "bad", Hint: "fix it"}, "Procfile:3: bad; hint: fix it"},
		{LineError{Path: "./a/Procfile", Msg: "bad", Hint: "fix it"}, "./a/Procfile: bad; hint: fix it"},
		{LineError{Line: 2, Msg: "bad"}, "line 2: bad"},
		{LineError{Msg: "bad"}, "bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

// TestParseLongLine checks that lines have no length limit, and commands
// the one Linux sets for an argument: a 10 MiB command is refused with a
// hint (start would fail with "argument list too long").
func TestParseLongLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	maxCmd := "echo " + strings.Repeat("x", MaxCommand-len("echo "))
	tests := []struct {
		name string
		in   string
		want []Entry
		err  string
	}{
		{name: "long comment and a command of MaxCommand bytes", in: "# " + long + "\nweb: " + maxCmd + "  \r\nworker: ./w\n",
			want: []Entry{ent("web", maxCmd, 2), ent("worker", "./w", 3)}},
		{name: "one byte over", in: "web: " + maxCmd + "x\nworker: ./w\n",
			err: `Procfile:1: the command of "web" is 131067 bytes long; hint: Linux passes at most 131066 bytes to the shell (128 KiB per argument); move the command into a script and run that`},
		{name: "10 MiB", in: "worker: ./w\nweb: echo " + strings.Repeat("x", 10<<20) + "\n",
			err: `Procfile:2: the command of "web" is 10485765 bytes long; hint: Linux passes at most 131066 bytes to the shell (128 KiB per argument); move the command into a script and run that`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Procfile")
			if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := ReadFile(path)
			if tc.err != "" {
				if err == nil || err.Error() != path[:len(path)-len("Procfile")]+tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Entries, tc.want) {
				t.Errorf("got %d entries, want %d, or a command differs", len(p.Entries), len(tc.want))
			}
		})
	}
}

// TestMaxCommandMatchesKernel runs the shell as ganger would, with a
// command of MaxCommand bytes and one byte more, so the constant stays
// honest.
func TestMaxCommandMatchesKernel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("MAX_ARG_STRLEN, the per-argument limit, is Linux's")
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip(err)
	}
	for _, n := range []int{MaxCommand, MaxCommand + 1} {
		// The program need not exist: only the shell's own exec matters.
		command := "./no-such-program " + strings.Repeat("x", n-len("./no-such-program "))
		argv := ShellArgv(command)
		if argv[2] != "exec "+command {
			t.Fatalf("ShellArgv did not add exec: %.20q", argv[2])
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = t.TempDir()
		err := cmd.Start()
		if err == nil {
			_ = cmd.Wait() // the shell's exit status does not matter
		}
		if fits := n <= MaxCommand; (err == nil) != fits {
			t.Errorf("command of %d bytes: start error %v, want it to fit: %v", n, err, fits)
		}
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Parse(iotest.ErrReader(boom), "Procfile")
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap the read error", err)
	}
	if got, want := err.Error(), "read Procfile: boom"; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
}

func TestReadFile(t *testing.T) {
	p, err := ReadFile("testdata/Procfile")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		ent("web", "bundle exec puma -C config/puma.rb", 3),
		ent("worker", "bundle exec sidekiq -c ${SIDEKIQ_CONCURRENCY:-5}", 4),
		ent("release", "bundle exec rails db:migrate", 5),
		ent("clock", "bundle exec clockwork clock.rb # the shell sees this comment", 6),
	}
	if !reflect.DeepEqual(p.Entries, want) {
		t.Errorf("entries:\n got %+v\nwant %+v", p.Entries, want)
	}
	if p.Path != "testdata/Procfile" {
		t.Errorf("Path = %q", p.Path)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)

	_, err := ReadFile("Procfile")
	if got, want := err.Error(), "open Procfile: no such file or directory (use -f to name another Procfile)"; got != want {
		t.Errorf("missing file: %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("missing file: errors.Is(err, fs.ErrNotExist) is false")
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "Procfile" {
		t.Errorf("missing file: *fs.PathError not reachable: %v", pe)
	}

	if err := os.WriteFile("Procfile.dev", []byte("web: a\nweb: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile("Procfile.dev")
	if got, want := err.Error(), `Procfile.dev:2: duplicate process "web" (first at line 1)`; got != want {
		t.Errorf("bad file: %q, want %q", got, want)
	}

	if err := os.Mkdir("dir", 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile("dir")
	if err == nil || !strings.HasPrefix(err.Error(), "read dir: ") {
		t.Errorf("directory: err = %v, want a read error naming it", err)
	}
}

func TestLookupAndNames(t *testing.T) {
	p, err := Parse(strings.NewReader("web: a\nworker: b\nrelease: c\n"), "Procfile")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Names(), []string{"web", "worker", "release"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	e, i, ok := p.Lookup("worker")
	if !ok || i != 1 || e != ent("worker", "b", 2) {
		t.Errorf("Lookup(worker) = %+v, %d, %v", e, i, ok)
	}
	e, i, ok = p.Lookup("Worker")
	if ok || i != -1 || e != (Entry{}) {
		t.Errorf("Lookup(Worker) = %+v, %d, %v; want not found", e, i, ok)
	}
	var nilP *Procfile
	if _, _, ok := nilP.Lookup("web"); ok || nilP.Names() != nil {
		t.Error("nil Procfile should have no entries")
	}
}

func TestWriteTo(t *testing.T) {
	p, err := Parse(strings.NewReader("\uFEFF  web : a # b  \r\n# c\r\nworker:b\r\n"), "Procfile")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := p.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := "web: a # b\nworker: b\n"
	if buf.String() != want || n != int64(len(want)) {
		t.Errorf("WriteTo wrote %q (n=%d), want %q (n=%d)", buf.String(), n, want, len(want))
	}

	// A failing writer: the error and the count so far come back.
	_, err = p.WriteTo(&failWriter{room: 3})
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Errorf("WriteTo to a full writer: err = %v", err)
	}
}

type failWriter struct{ room int }

func (w *failWriter) Write(b []byte) (int, error) {
	if len(b) > w.room {
		n := w.room
		w.room = 0
		return n, errors.New("writer full")
	}
	w.room -= len(b)
	return len(b), nil
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Parse(strings.NewReader(in), "Procfile")
		if err != nil {
			for _, le := range lineErrors(t, err) {
				if msg := le.Error(); strings.ContainsAny(msg, "\r\n") {
					t.Errorf("error spans lines: %q", msg)
				}
				if le.Line < 0 || le.Path != "Procfile" {
					t.Errorf("bad LineError %+v", le)
				}
			}
			return
		}
		if len(p.Entries) == 0 {
			t.Fatal("success without entries")
		}
		seen := map[string]bool{}
		last := 0
		for _, e := range p.Entries {
			if !validName(e.Name) {
				t.Errorf("invalid name %q accepted", e.Name)
			}
			if seen[e.Name] {
				t.Errorf("duplicate name %q accepted", e.Name)
			}
			seen[e.Name] = true
			if e.Command == "" || strings.ContainsAny(e.Command, "\r\n\x00") || len(e.Command) > MaxCommand ||
				strings.Trim(e.Command, " \t") != e.Command {
				t.Errorf("bad command %q", e.Command)
			}
			if e.Line <= last {
				t.Errorf("line %d after line %d", e.Line, last)
			}
			last = e.Line
		}

		var buf bytes.Buffer
		if _, err := p.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(&buf, "Procfile")
		if err != nil {
			t.Fatalf("re-parsing the rendered entries: %v", err)
		}
		if len(again.Entries) != len(p.Entries) {
			t.Fatalf("re-parse: %d entries, want %d", len(again.Entries), len(p.Entries))
		}
		for i, e := range again.Entries {
			if e.Name != p.Entries[i].Name || e.Command != p.Entries[i].Command || e.Line != i+1 {
				t.Errorf("re-parse entry %d = %+v, want %+v at line %d", i, e, p.Entries[i], i+1)
			}
		}
	})
}
