package env

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits. A value or file beyond them is an error, not a truncation.
const (
	maxValue    = 1 << 20  // one value, after expansion
	maxFile     = 16 << 20 // one file, and all of its values together
	maxVars     = 1 << 17  // distinct keys per file: no program could receive more
	maxErrors   = 20       // errors reported per file before giving up
	maxNesting  = 16       // ${A:-${B:-...}} depth
	maxKeyShown = 64       // bytes of a key quoted in an error
)

const keyHint = "keys are letters, digits, '_' and '.', followed by '=' or ':'"

// Parse parses .env syntax from r. name is the file's path, used as each
// Var's Source and in errors ("NAME:LINE: ..."). lookup resolves variables
// not defined earlier in this input (nil: none); undefined ones expand to "".
// On failure it returns every problem found, joined with errors.Join, each a
// *LineError. Errors name the line, the key and the column, and never hold
// text of a value: env files hold secrets, and errors end up in terminals,
// CI logs and bug reports.
//
// The result holds one Var per key, in the order keys first appear; a key
// defined twice holds its last definition, and Line is the line where that
// definition starts. A parse with errors returns
// nil vars. An error reading r is returned as is, wrapped with name.
func Parse(r io.Reader, name string, lookup func(string) (string, bool)) ([]Var, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxFile {
		return nil, errors.Join(&LineError{Path: name, Msg: "file is larger than 16 MiB; is it really an env file?"})
	}
	p := &parser{
		src:    normalize(string(data)),
		line:   1,
		name:   name,
		lookup: lookup,
		vars:   map[string]string{},
		index:  map[string]int{},
	}
	p.run()
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.out, nil
}

// normalize drops a leading UTF-8 BOM and turns "\r\n" and a lone "\r" into
// "\n", inside quotes too.
func normalize(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// parser scans one file. pos always sits at the start of a statement or
// inside the line being parsed; line is the 1-based line of pos.
type parser struct {
	src    string
	pos    int
	line   int
	name   string
	lookup func(string) (string, bool)
	vars   map[string]string // this file so far
	out    []Var
	index  map[string]int // key -> its place in out
	errs   []error
	total  int  // bytes of all values so far
	nul    bool // the current statement's NUL byte is reported
}

func (p *parser) run() {
	for p.pos < len(p.src) {
		if len(p.errs) >= maxErrors {
			p.errorf(p.line, "too many errors")
			return
		}
		from, line := p.pos, p.line
		p.nul = false
		p.statement()
		// A NUL byte no more precise error named (in a comment, in text
		// after a quote, in a value skipped for its bad key).
		if i := strings.IndexByte(p.src[from:p.pos], 0); i >= 0 && !p.nul {
			p.nulError(from, line, from+i, "")
		}
	}
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &LineError{Path: p.name, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// lineCol is the line and 1-based column (in characters) of byte offset i,
// counting lines from offset from, which is on line.
func (p *parser) lineCol(from, line, i int) (int, int) {
	line += strings.Count(p.src[from:i], "\n")
	bol := strings.LastIndexByte(p.src[:i], '\n') + 1
	return line, utf8.RuneCountInString(p.src[bol:i]) + 1
}

// nulError reports the NUL byte at offset i, in the value of key or, when
// key is "", elsewhere; from is an offset on line before i.
func (p *parser) nulError(from, line, i int, key string) {
	l, col := p.lineCol(from, line, i)
	if key == "" {
		p.errorf(l, "NUL byte at column %d: is it a binary file?", col)
	} else {
		p.errorf(l, "value of %s holds a NUL byte at column %d: programs cannot receive one, remove it", quoteKey(key), col)
	}
	p.nul = true
}

// keyError reports the bad key of the statement whose key text starts at
// offset keyStart, on line, and runs to end. It never quotes text that may
// be a value: the key is named only when it is a well-formed key followed
// by something else ("SECRET_KEY hunter2", "MY KEY=1"); otherwise the
// column of the first character a key cannot hold.
func (p *parser) keyError(line, keyStart, end int) {
	word := p.src[keyStart:end]
	if validKey(word) {
		i := end
		for i < len(p.src) && isBlank(p.src[i]) {
			i++
		}
		_, col := p.lineCol(keyStart, line, i)
		p.errorf(line, "invalid key %s: unexpected text at column %d; %s", quoteKey(word), col, keyHint)
		return
	}
	bad := keyStart
	for bad < end && isKeyChar(p.src[bad]) {
		bad++
	}
	if bad < end && p.src[bad] == 0 {
		p.nulError(keyStart, line, bad, "")
		return
	}
	_, col := p.lineCol(keyStart, line, bad)
	if isConflictMarker(p.src[keyStart:]) {
		p.errorf(line, "invalid key at column %d: this looks like a merge conflict marker; resolve the conflict", col)
		return
	}
	p.errorf(line, "invalid key at column %d; %s", col, keyHint)
}

// isConflictMarker reports whether s starts with a merge conflict marker.
func isConflictMarker(s string) bool {
	for _, marker := range []string{"<<<<<<<", "=======", ">>>>>>>", "|||||||"} {
		if strings.HasPrefix(s, marker) {
			return true
		}
	}
	return false
}

// advance moves pos to i, counting the newlines passed.
func (p *parser) advance(i int) {
	p.line += strings.Count(p.src[p.pos:i], "\n")
	p.pos = i
}

// endOfLine is the index of the "\n" ending the current line, or len(src).
func (p *parser) endOfLine() int {
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		return p.pos + i
	}
	return len(p.src)
}

// nextLine moves pos past the end of the current line.
func (p *parser) nextLine() {
	end := p.endOfLine()
	if end < len(p.src) {
		end++
	}
	p.advance(end)
}

func (p *parser) skipBlanks() bool {
	start := p.pos
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

// atEOL reports whether pos is at the end of a line or of the input.
func (p *parser) atEOL() bool { return p.pos >= len(p.src) || p.src[p.pos] == '\n' }

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isKeyChar(k[i]) {
			return false
		}
	}
	return true
}

// statement parses one line (more for a multi-line quoted value) and leaves
// pos at the start of the next.
func (p *parser) statement() {
	p.skipBlanks()
	if p.atEOL() || p.peek() == '#' {
		p.nextLine()
		return
	}
	start := p.line

	// "export " is a prefix unless "export" is itself the key.
	if rest := p.src[p.pos:]; len(rest) > 6 && strings.HasPrefix(rest, "export") && isBlank(rest[6]) {
		save := p.pos
		p.pos += 6
		p.skipBlanks()
		if c := p.peek(); p.atEOL() || c == '=' || c == ':' || c == '#' {
			p.pos = save
		}
	}

	keyStart := p.pos
	for p.pos < len(p.src) && !isBlank(p.src[p.pos]) && !strings.ContainsRune("=:\n", rune(p.src[p.pos])) {
		p.pos++
	}
	key, keyEnd := p.src[keyStart:p.pos], p.pos
	p.skipBlanks()

	switch c := p.peek(); {
	case p.atEOL() || c == '#':
		// A bare KEY: a no-op, like compose's "inherit".
		if !validKey(key) {
			p.keyError(start, keyStart, keyEnd)
		}
		p.nextLine()
		return
	case c == '=' || c == ':':
		if key == "" || !validKey(key) {
			switch _, col := p.lineCol(keyStart, start, p.pos); {
			case key == "" && isConflictMarker(p.src[keyStart:]):
				p.errorf(start, "invalid key at column %d: this looks like a merge conflict marker; resolve the conflict", col)
			case key == "":
				p.errorf(start, "missing key before '%c' at column %d: write KEY=value", c, col)
			default:
				p.keyError(start, keyStart, keyEnd)
			}
			p.pos++
			p.value("", start) // skipped, so a quoted value's lines are not read as entries
			return
		}
		p.pos++
	default:
		// "MY KEY=1", "SECRET_KEY hunter2" or junk.
		p.keyError(start, keyStart, keyEnd)
		sep := strings.IndexAny(p.src[p.pos:p.endOfLine()], "=:")
		if sep < 0 {
			p.nextLine()
			return
		}
		p.pos += sep + 1
		p.value("", start)
		return
	}

	value, ok := p.value(key, start)
	if !ok {
		return
	}
	if len(value) > maxValue {
		p.errorf(start, "value of %s is too large (%d bytes; the limit is 1 MiB)", quoteKey(key), len(value))
		return
	}
	p.total += len(value)
	if p.total > maxFile {
		p.errorf(start, "values expand to more than 16 MiB in total")
		p.pos = len(p.src)
		return
	}
	p.vars[key] = value
	v := Var{Key: key, Value: value, Source: p.name, Line: start}
	if i, dup := p.index[key]; dup {
		p.out[i] = v
		return
	}
	if len(p.out) >= maxVars {
		p.errorf(start, "more than %d variables; no program could receive them all", maxVars)
		p.pos = len(p.src)
		return
	}
	p.index[key] = len(p.out)
	p.out = append(p.out, v)
}

// value parses what follows the separator and moves pos to the next line.
// It reports false after recording an error. With key "" the value belongs
// to a bad key and is only skipped: its quotes are matched, nothing more.
func (p *parser) value(key string, start int) (string, bool) {
	sawBlank := p.skipBlanks()
	c := p.peek()
	switch {
	case p.atEOL():
		p.nextLine()
		return "", true
	case c == '#' && sawBlank:
		p.nextLine()
		return "", true
	case c == '\'' || c == '"':
		return p.quoted(key, start, c)
	}
	// Unquoted: up to a '#' that follows a blank, trimmed.
	off, end := p.pos, p.endOfLine()
	raw := p.src[off:end]
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && isBlank(raw[i-1]) {
			raw = raw[:i]
			break
		}
	}
	raw = strings.TrimRight(raw, " \t")
	line := p.line
	p.nextLine()
	return p.expand(key, raw, off, line, false)
}

func (p *parser) quoted(key string, start int, q byte) (string, bool) {
	open := p.pos
	end := -1
	for i := open + 1; i < len(p.src); i++ {
		if c := p.src[i]; c == q {
			end = i
			break
		} else if c == '\\' && q == '"' {
			i++
		}
	}
	kind := "double"
	if q == '\'' {
		kind = "single"
	}
	if end < 0 {
		_, col := p.lineCol(open, p.line, open)
		if key == "" {
			p.errorf(start, "unterminated %s quote (opened at column %d): add the closing %c", kind, col, q)
		} else {
			p.errorf(start, "unterminated %s quote in the value of %s (opened at column %d): add the closing %c", kind, quoteKey(key), col, q)
		}
		p.pos = len(p.src)
		return "", false
	}
	raw := p.src[open+1 : end]
	line := p.line
	p.advance(end + 1)

	// Only blanks and a comment may follow the closing quote.
	p.skipBlanks()
	if !p.atEOL() && p.peek() != '#' {
		_, col := p.lineCol(p.pos, p.line, p.pos)
		if key == "" {
			p.errorf(p.line, "unexpected text at column %d after a closing quote: quote the whole value", col)
		} else {
			p.errorf(p.line, "unexpected text at column %d after the closing quote of %s: quote the whole value", col, quoteKey(key))
		}
		p.nextLine()
		return "", false
	}
	p.nextLine()
	if q == '\'' {
		if key != "" {
			if i := strings.IndexByte(raw, 0); i >= 0 {
				p.nulError(open, line, open+1+i, key)
				return "", false
			}
		}
		return raw, true
	}
	return p.expand(key, raw, open+1, line, true)
}

// get resolves a variable: this file so far, then lookup.
func (p *parser) get(name string) (string, bool) {
	if v, ok := p.vars[name]; ok {
		return v, true
	}
	if p.lookup != nil {
		return p.lookup(name)
	}
	return "", false
}

// expand processes escapes and $ expansion in the value of key, raw, which
// starts at offset off, on line. dq selects double-quote escapes; otherwise
// only \$ is an escape. A skipped value (key "") is not expanded.
func (p *parser) expand(key, raw string, off, line int, dq bool) (string, bool) {
	if key == "" {
		return "", true
	}
	if i := strings.IndexByte(raw, 0); i >= 0 {
		p.nulError(off, line, off+i, key)
		return "", false
	}
	if !dq && strings.IndexByte(raw, '$') < 0 {
		return raw, true
	}
	x := &expander{p: p, key: key, s: raw, off: off, line: line, dq: dq}
	out, err := x.word(false)
	if err != nil {
		var le *LineError
		if errors.As(err, &le) {
			p.errs = append(p.errs, le)
		}
		return "", false
	}
	return out, true
}

// expander is a recursive-descent pass over one raw value. Its errors name
// the key and a column, never text of the value.
type expander struct {
	p     *parser
	key   string
	s     string
	off   int // offset of s in p.src
	i     int
	line  int // line of s[0]
	dq    bool
	depth int
}

// errUnclosed ends a ${...} default that reaches the end of the value.
var errUnclosed = errors.New("unclosed")

// errorAt is an error at s[i]: "MSG at column N in the value of KEY" then
// the hint, when there is one.
func (x *expander) errorAt(i int, msg, hint string) error {
	line, col := x.p.lineCol(x.off, x.line, x.off+i)
	m := fmt.Sprintf("%s at column %d in the value of %s", msg, col, quoteKey(x.key))
	if hint != "" {
		m += ": " + hint
	}
	return &LineError{Path: x.p.name, Line: line, Msg: m}
}

func (x *expander) tooLarge() error {
	return &LineError{Path: x.p.name, Line: x.line, Msg: fmt.Sprintf("value of %s expands to more than 1 MiB", quoteKey(x.key))}
}

// word expands up to the end of s, or, inBrace, up to an unescaped '}' that
// it leaves for the caller.
func (x *expander) word(inBrace bool) (string, error) {
	var b strings.Builder
	for x.i < len(x.s) {
		if b.Len() > maxValue {
			return "", x.tooLarge()
		}
		c := x.s[x.i]
		switch {
		case c == '}' && inBrace:
			return b.String(), nil
		case c == '\\' && x.i+1 < len(x.s):
			n := x.s[x.i+1]
			x.i += 2
			switch {
			case n == '$':
				b.WriteByte('$')
			case !x.dq:
				b.WriteByte('\\')
				x.i-- // unquoted: the backslash is literal, n is read again
			case n == 'n':
				b.WriteByte('\n')
			case n == 'r':
				b.WriteByte('\r')
			case n == 't':
				b.WriteByte('\t')
			case n == '\\' || n == '"':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case c == '$':
			if err := x.dollar(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			x.i++
		}
	}
	if inBrace {
		return "", errUnclosed
	}
	if b.Len() > maxValue {
		return "", x.tooLarge()
	}
	return b.String(), nil
}

func isNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

// dollar expands the $ at x.i.
func (x *expander) dollar(b *strings.Builder) error {
	s, i := x.s, x.i
	if i+1 >= len(s) {
		b.WriteByte('$')
		x.i++
		return nil
	}
	switch n := s[i+1]; {
	case n == '$':
		b.WriteByte('$') // one literal '$', as in compose; never the shell's PID
		x.i += 2
	case isNameStart(n):
		j := i + 1
		for j < len(s) && isNameChar(s[j]) {
			j++
		}
		v, _ := x.p.get(s[i+1 : j])
		b.WriteString(v)
		x.i = j
	case n == '{':
		return x.brace(b)
	default:
		b.WriteByte('$') // "$27", "$(cmd)", "$ " stay literal
		x.i++
	}
	return nil
}

// brace expands ${NAME}, ${NAME:-default} or ${NAME-default} at x.i.
func (x *expander) brace(b *strings.Builder) error {
	const unclosed, closeIt = `unterminated "${"`, `add the closing "}"`
	s, i := x.s, x.i
	if strings.IndexByte(s[i:], '}') < 0 {
		return x.errorAt(i, unclosed, closeIt)
	}
	j := i + 2
	for j < len(s) && isNameChar(s[j]) {
		j++
	}
	name := s[i+2 : j]
	if name == "" || !isNameStart(name[0]) || j >= len(s) || !strings.ContainsRune("}:-?+=#%/^,@", rune(s[j])) {
		return x.errorAt(i, `bad variable name after "${"`,
			`names are letters, digits and '_', not starting with a digit; write \$ for a literal '$'`)
	}
	if s[j] == '}' {
		v, _ := x.p.get(name)
		b.WriteString(v)
		x.i = j + 1
		return nil
	}
	colon := s[j] == ':'
	if colon {
		j++
	}
	if j >= len(s) || s[j] != '-' {
		return x.errorAt(i, "unsupported expansion",
			`use ${NAME}, ${NAME:-default} or ${NAME-default}; write \$ for a literal '$'`)
	}
	if x.depth >= maxNesting {
		return x.errorAt(i, fmt.Sprintf("expansion nested more than %d deep", maxNesting), "")
	}
	x.depth++
	x.i = j + 1
	def, err := x.word(true)
	x.depth--
	if err == errUnclosed {
		return x.errorAt(i, unclosed, closeIt)
	}
	if err != nil {
		return err
	}
	x.i++ // the '}'
	v, ok := x.p.get(name)
	if !ok || colon && v == "" {
		v = def
	}
	b.WriteString(v)
	return nil
}

// quoteKey quotes a well-formed key for an error message, clipped to
// maxKeyShown bytes. Only keys are ever quoted in errors, never values.
func quoteKey(k string) string {
	if len(k) > maxKeyShown {
		return `"` + k[:maxKeyShown] + `"...`
	}
	return `"` + k + `"`
}
