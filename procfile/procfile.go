package procfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Release is the process type run once, before the formation, by the
// platform's release phase. It is not part of the default start set.
const Release = "release"

// MaxNameLen is the longest process name accepted (Dokku's limit).
const MaxNameLen = 63

// MaxCommand is the longest command accepted, in bytes: a command reaches
// the shell as one argument, Linux passes at most 128 KiB in one argument
// (MAX_ARG_STRLEN, the terminating NUL included), and ShellArgv may put
// "exec " before the command.
const MaxCommand = 128<<10 - 1 - len("exec ")

// Entry is one process type declared in a Procfile.
type Entry struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Line    int    `json:"line"` // 1-based line number in the file
}

// Procfile is a parsed Procfile: its entries in file order.
type Procfile struct {
	Path    string // as given to Parse, used in messages
	Entries []Entry
}

// LineError is one problem at one line of a file. Error() reads
// "PATH:LINE: MSG" followed by "; hint: HINT" when there is a hint; when Line
// is 0 (a problem with the whole file) it reads "PATH: MSG".
type LineError struct {
	Path string
	Line int
	Msg  string
	Hint string
}

func (e *LineError) Error() string {
	var b strings.Builder
	switch {
	case e.Path != "" && e.Line > 0:
		b.WriteString(e.Path)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	case e.Path != "":
		b.WriteString(e.Path)
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("; hint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Location is where the problem is: the file, and the line or 0.
func (e *LineError) Location() (file string, line int) { return e.Path, e.Line }

// Detail is the problem without its location, hint included.
func (e *LineError) Detail() string {
	if e.Hint != "" {
		return e.Msg + "; hint: " + e.Hint
	}
	return e.Msg
}

// Parse reads a Procfile from r. path names the file in errors. On failure it
// returns every problem found, joined with errors.Join, each a *LineError.
// A file with no entries is an error (Line 0).
func Parse(r io.Reader, path string) (*Procfile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parse(string(data), path)
}

// ReadFile opens and parses the Procfile at path.
func ReadFile(path string) (*Procfile, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (use -f to name another Procfile)", err)
		}
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Lookup returns the entry named name and its index in the file.
func (p *Procfile) Lookup(name string) (Entry, int, bool) {
	if p == nil {
		return Entry{}, -1, false
	}
	for i, e := range p.Entries {
		if e.Name == name {
			return e, i, true
		}
	}
	return Entry{}, -1, false
}

// Names returns the entry names in file order.
func (p *Procfile) Names() []string {
	if p == nil {
		return nil
	}
	names := make([]string, len(p.Entries))
	for i, e := range p.Entries {
		names[i] = e.Name
	}
	return names
}

// WriteTo renders the entries as "name: command\n" lines in file order, the
// canonical form Parse reads back to the same entries. It implements
// io.WriterTo.
func (p *Procfile) WriteTo(w io.Writer) (int64, error) {
	if p == nil {
		return 0, nil
	}
	var total int64
	for _, e := range p.Entries {
		n, err := io.WriteString(w, e.Name+": "+e.Command+"\n")
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

const bom = "\uFEFF"

// entryHint is the hint for lines that are not entries.
const entryHint = `entries look like "web: bundle exec puma"`

// parse implements Parse on the whole input.
func parse(data, path string) (*Procfile, error) {
	data = strings.TrimPrefix(data, bom)
	p := &Procfile{Path: path}
	var errs []error
	fail := func(line int, msg, hint string) {
		errs = append(errs, &LineError{Path: path, Line: line, Msg: msg, Hint: hint})
	}
	firstAt := map[string]int{}

	for lineNo := 1; len(data) > 0; lineNo++ {
		line, rest := cutLine(data)
		data = rest

		s := strings.Trim(line, " \t")
		if s == "" || s[0] == '#' {
			continue
		}
		i := strings.IndexByte(s, ':')
		if i < 0 {
			fail(lineNo, "not a process entry "+excerpt(s), invalidLineHint(s))
			continue
		}
		name := strings.TrimRight(s[:i], " \t")
		command := strings.Trim(s[i+1:], " \t")
		switch {
		case name == "":
			fail(lineNo, "not a process entry "+excerpt(s), `the process name before ':' is missing; `+entryHint)
			continue
		case strings.ContainsAny(name, " \t"):
			fail(lineNo, "not a process entry "+excerpt(s), invalidLineHint(s))
			continue
		}
		if msg := checkName(name); msg != "" {
			fail(lineNo, msg, nameHint)
			continue
		}
		if len(name) > MaxNameLen {
			fail(lineNo, fmt.Sprintf("process name %s is %d characters long", excerpt(name), len(name)),
				fmt.Sprintf("names are at most %d characters", MaxNameLen))
			continue
		}
		if command == "" {
			fail(lineNo, fmt.Sprintf("process %q has no command", name), "")
			continue
		}
		if i := strings.IndexByte(line, 0); i >= 0 {
			fail(lineNo, fmt.Sprintf("the command of %q holds a NUL byte at column %d", name, utf8.RuneCountInString(line[:i])+1),
				"a program cannot receive one; remove it (is the Procfile a binary file?)")
			continue
		}
		if len(command) > MaxCommand {
			fail(lineNo, fmt.Sprintf("the command of %q is %d bytes long", name, len(command)),
				fmt.Sprintf("Linux passes at most %d bytes to the shell (128 KiB per argument); move the command into a script and run that", MaxCommand))
			continue
		}
		if first, dup := firstAt[name]; dup {
			fail(lineNo, fmt.Sprintf("duplicate process %q (first at line %d)", name, first), "")
			continue
		}
		firstAt[name] = lineNo
		p.Entries = append(p.Entries, Entry{Name: name, Command: command, Line: lineNo})
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(p.Entries) == 0 {
		return nil, &LineError{Path: path, Msg: "no processes defined", Hint: `add a line such as "web: ./server"`}
	}
	return p, nil
}

// cutLine splits data after its first line ending ("\r\n", "\n" or a lone
// "\r"), returning the line without the ending and the remainder.
func cutLine(data string) (line, rest string) {
	i := strings.IndexAny(data, "\r\n")
	if i < 0 {
		return data, ""
	}
	if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
		return data[:i], data[i+2:]
	}
	return data[:i], data[i+1:]
}

// nameHint explains the process name charset.
const nameHint = "names are letters, digits, '_' and '-'"

// validName reports whether name is a well-formed process name: non-empty,
// at most MaxNameLen long, ASCII letters, digits, '_' and '-' only.
func validName(name string) bool {
	return name != "" && len(name) <= MaxNameLen && checkName(name) == ""
}

// checkName returns a message naming the first character of name outside
// [A-Za-z0-9_-], or "" when there is none. It does not check the length.
func checkName(name string) string {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf && isNameByte(c) {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Sprintf("invalid process name %s: byte %#02x is not allowed", excerpt(name), c)
		}
		return fmt.Sprintf("invalid process name %s: %s is not allowed", excerpt(name), strconv.QuoteRune(r))
	}
	return ""
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// invalidLineHint picks the hint for a line that is not an entry.
func invalidLineHint(s string) string {
	for _, marker := range []string{"<<<<<<<", "=======", ">>>>>>>", "|||||||"} {
		if strings.HasPrefix(s, marker) {
			return "this looks like a merge conflict marker; resolve the conflict"
		}
	}
	return entryHint
}

// excerptLen is how many characters of an offending line messages quote.
const excerptLen = 60

// excerpt quotes s with %q, cut to excerptLen characters plus "...", so that
// messages stay one short line whatever the input holds.
func excerpt(s string) string {
	n := 0
	for i := range s {
		if n == excerptLen {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}
