package env

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits. A value or file beyond them is an error, not a truncation.
const (
	maxValue     = 1 << 20  // one value, after expansion
	maxFile      = 16 << 20 // one file, and all of its values together
	maxVars      = 1 << 17  // distinct keys per file: no program could receive more
	maxErrors    = 20       // errors reported per file before giving up
	maxNesting   = 16       // ${A:-${B:-...}} depth
	maxShownText = 40       // bytes of a bad key or stray text quoted in an error
)

const keyHint = "keys are letters, digits, '_' and '.'"

// Parse parses .env syntax from r. name is the file's path, used as each
// Var's Source and in errors ("NAME:LINE: ..."). lookup resolves variables
// not defined earlier in this input (nil: none); undefined ones expand to "".
// On failure it returns every problem found, joined with errors.Join, each a
// *LineError.
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
	total  int // bytes of all values so far
}

func (p *parser) run() {
	if i := strings.IndexByte(p.src, 0); i >= 0 {
		p.errorf(1+strings.Count(p.src[:i], "\n"), "NUL byte in env file; is it a binary file?")
		return
	}
	for p.pos < len(p.src) {
		if len(p.errs) >= maxErrors {
			p.errorf(p.line, "too many errors")
			return
		}
		p.statement()
	}
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &LineError{Path: p.name, Line: line, Msg: fmt.Sprintf(format, args...)})
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
	key := p.src[keyStart:p.pos]
	p.skipBlanks()

	switch c := p.peek(); {
	case p.atEOL() || c == '#':
		// A bare KEY: a no-op, like compose's "inherit".
		if !validKey(key) {
			p.errorf(start, "invalid key %s: %s", shown(key), keyHint)
		}
		p.nextLine()
		return
	case c == '=' || c == ':':
		if key == "" || !validKey(key) {
			if key == "" {
				p.errorf(start, "missing key before '%c'", c)
			} else {
				p.errorf(start, "invalid key %s: %s", shown(key), keyHint)
			}
			p.pos++
			p.value(key, start) // skipped, so a quoted value's lines are not read as entries
			return
		}
		p.pos++
	default:
		// "MY KEY=1" or junk: name the text up to the separator.
		text := p.src[keyStart:p.endOfLine()]
		sep := strings.IndexAny(text, "=:")
		if sep >= 0 {
			text = text[:sep]
		}
		p.errorf(start, "invalid key %s: %s", shown(strings.TrimRight(text, " \t")), keyHint)
		if sep < 0 {
			p.nextLine()
			return
		}
		p.pos = keyStart + sep + 1
		p.value(key, start)
		return
	}

	value, ok := p.value(key, start)
	if !ok {
		return
	}
	if len(value) > maxValue {
		p.errorf(start, "value of %q is too large (%d bytes; the limit is 1 MiB)", key, len(value))
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
// It reports false after recording an error.
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
	end := p.endOfLine()
	raw := p.src[p.pos:end]
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && isBlank(raw[i-1]) {
			raw = raw[:i]
			break
		}
	}
	raw = strings.TrimRight(raw, " \t")
	line := p.line
	p.nextLine()
	return p.expand(raw, line, false)
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
		p.errorf(start, "unterminated %s quote in the value of %q: add the closing %c", kind, key, q)
		p.pos = len(p.src)
		return "", false
	}
	raw := p.src[open+1 : end]
	line := p.line
	p.advance(end + 1)

	// Only blanks and a comment may follow the closing quote.
	p.skipBlanks()
	if !p.atEOL() && p.peek() != '#' {
		stray := p.src[p.pos:p.endOfLine()]
		p.errorf(p.line, "unexpected text %s after the closing quote of %q: quote the whole value", shown(stray), key)
		p.nextLine()
		return "", false
	}
	p.nextLine()
	if q == '\'' {
		return raw, true
	}
	return p.expand(raw, line, true)
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

// expand processes escapes and $ expansion in raw, whose first byte is on
// line. dq selects double-quote escapes; otherwise only \$ is an escape.
func (p *parser) expand(raw string, line int, dq bool) (string, bool) {
	if !dq && strings.IndexByte(raw, '$') < 0 {
		return raw, true
	}
	x := &expander{p: p, s: raw, line: line, dq: dq}
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

// expander is a recursive-descent pass over one raw value.
type expander struct {
	p     *parser
	s     string
	i     int
	line  int
	dq    bool
	depth int
}

// errUnclosed ends a ${...} default that reaches the end of the value.
var errUnclosed = errors.New("unclosed")

func (x *expander) errorAt(i int, format string, args ...any) error {
	return &LineError{Path: x.p.name, Line: x.line + strings.Count(x.s[:i], "\n"), Msg: fmt.Sprintf(format, args...)}
}

// word expands up to the end of s, or, inBrace, up to an unescaped '}' that
// it leaves for the caller.
func (x *expander) word(inBrace bool) (string, error) {
	var b strings.Builder
	for x.i < len(x.s) {
		if b.Len() > maxValue {
			return "", x.errorAt(x.i, "value expands to more than 1 MiB")
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
		return "", x.errorAt(x.i, "value expands to more than 1 MiB")
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
		b.WriteString("$$") // kept as is: neither the shell's PID nor compose's "$"
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
	s, i := x.s, x.i
	end := strings.IndexByte(s[i:], '}')
	if end < 0 {
		return x.errorAt(i, `unterminated "${" in value: add the closing "}"`)
	}
	j := i + 2
	for j < len(s) && isNameChar(s[j]) {
		j++
	}
	name := s[i+2 : j]
	snippet := shown(s[i : i+end+1])
	if name == "" || !isNameStart(name[0]) || j >= len(s) || !strings.ContainsRune("}:-?+=#%/^,@", rune(s[j])) {
		return x.errorAt(i, "bad variable name in %s: names are letters, digits and '_', not starting with a digit", snippet)
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
		return x.errorAt(i, "unsupported expansion %s: use ${%s}, ${%s:-default} or ${%s-default}", snippet, name, name, name)
	}
	if x.depth >= maxNesting {
		return x.errorAt(i, "expansion nested more than %d deep", maxNesting)
	}
	x.depth++
	x.i = j + 1
	def, err := x.word(true)
	x.depth--
	if err == errUnclosed {
		return x.errorAt(i, `unterminated "${" in value: add the closing "}"`)
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

// shown quotes text for an error message, clipped.
func shown(s string) string {
	if len(s) > maxShownText {
		return fmt.Sprintf("%q...", s[:maxShownText])
	}
	return fmt.Sprintf("%q", s)
}
