package export

// Stand-ins for engine parsers that cannot run here, each a port of the
// engine's code named in its comment, plus small readers for unit and INI
// files. They are used only where the real engine is not available.

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// parseSystemdEnvFile is a port of systemd's parse_env_file_internal
// (src/basic/env-file.c, v252), the parser behind EnvironmentFile=.
func parseSystemdEnvFile(src string) (map[string]string, error) {
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	const whitespace = " \t\n\r"
	const newline = "\n\r"
	out := map[string]string{}
	state := preKey
	var k, v []byte
	lastValueWS, lastKeyWS := -1, -1
	push := func() {
		kk := k
		if lastKeyWS >= 0 {
			kk = kk[:lastKeyWS]
		}
		out[string(kk)] = string(v)
		k, v = nil, nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == 0 {
			break
		}
		switch state {
		case preKey:
			if c == '#' || c == ';' {
				state = comment
			} else if !strings.ContainsRune(whitespace, rune(c)) {
				state = key
				lastKeyWS = -1
				k = append(k, c)
			}
		case key:
			if strings.ContainsRune(newline, rune(c)) {
				state = preKey
				k = nil
			} else if c == '=' {
				state = preValue
				lastValueWS = -1
			} else {
				if !strings.ContainsRune(whitespace, rune(c)) {
					lastKeyWS = -1
				} else if lastKeyWS < 0 {
					lastKeyWS = len(k)
				}
				k = append(k, c)
			}
		case preValue:
			switch {
			case strings.ContainsRune(newline, rune(c)):
				state = preKey
				push()
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case !strings.ContainsRune(whitespace, rune(c)):
				state = value
				v = append(v, c)
			}
		case value:
			switch {
			case strings.ContainsRune(newline, rune(c)):
				state = preKey
				if lastValueWS >= 0 {
					v = v[:lastValueWS]
				}
				push()
			case c == '\\':
				state = valueEscape
				lastValueWS = -1
			default:
				if !strings.ContainsRune(whitespace, rune(c)) {
					lastValueWS = -1
				} else if lastValueWS < 0 {
					lastValueWS = len(v)
				}
				v = append(v, c)
			}
		case valueEscape:
			state = value
			if !strings.ContainsRune(newline, rune(c)) {
				v = append(v, c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				v = append(v, c)
			}
		case doubleQuote:
			if c == '"' {
				state = preValue
			} else if c == '\\' {
				state = doubleQuoteEscape
			} else {
				v = append(v, c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			if strings.ContainsRune("\"\\`$", rune(c)) {
				v = append(v, c)
			} else if c != '\n' {
				v = append(v, '\\', c)
			}
		case comment:
			if c == '\\' {
				state = commentEscape
			} else if strings.ContainsRune(newline, rune(c)) {
				state = preKey
			}
		case commentEscape:
			state = comment
		}
	}
	switch state {
	case preValue, value, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		if state == value && lastValueWS >= 0 {
			v = v[:lastValueWS]
		}
		push()
	}
	return out, nil
}

// iniFile is a parsed unit or INI file: section → key → values in order.
type iniFile map[string]map[string][]string

// parseINI reads systemd unit files (comments '#' and ';') and supervisord's
// INI (the same, values taken verbatim after the first '='). A line ending
// in a backslash is an error: none of ours should continue.
func parseINI(t *testing.T, name string, b []byte) iniFile {
	t.Helper()
	f := iniFile{}
	sec := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasSuffix(line, `\`):
			t.Fatalf("%s:%d: unexpected continuation line", name, n)
		case line[0] == '[' && line[len(line)-1] == ']':
			sec = line[1 : len(line)-1]
			if f[sec] == nil {
				f[sec] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || sec == "" {
				t.Fatalf("%s:%d: not a key=value in a section: %q", name, n, line)
			}
			k = strings.TrimSpace(k)
			f[sec][k] = append(f[sec][k], strings.TrimSpace(v))
		}
	}
	return f
}

// one returns the single value of key in sec.
func (f iniFile) one(t *testing.T, sec, key string) string {
	t.Helper()
	v := f[sec][key]
	if len(v) != 1 {
		t.Fatalf("[%s] %s: want one value, have %q", sec, key, v)
	}
	return v[0]
}

// splitSystemdDump splits a command line as "systemd --test" prints it
// (quote_command_line: words, double-quoted with \-escapes when needed).
func splitSystemdDump(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			if e, ok := cEscapes[s[i]]; ok {
				cur.WriteByte(e)
			} else {
				cur.WriteByte(s[i])
			}
		case c == '"':
			quoted = !quoted
			in = true
		case !quoted && c == ' ':
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unbalanced quotes in %q", s)
	}
	if in {
		args = append(args, cur.String())
	}
	return args, nil
}

// systemdExecExpand does what systemd does to each argument of a command
// line when it starts it (replace_env_argv in src/basic/env-util.c, no
// flags): "$$" is "$", "${NAME}" is NAME's value or nothing. (A whole
// argument "$NAME" would be split into words; ours never are.)
func systemdExecExpand(arg string, environ []string) string {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var b strings.Builder
	for i := 0; i < len(arg); i++ {
		switch {
		case strings.HasPrefix(arg[i:], "$$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(arg[i:], "${"):
			if j := strings.IndexByte(arg[i:], '}'); j > 0 {
				b.WriteString(env[arg[i+2:i+j]])
				i += j
				continue
			}
			b.WriteByte('$')
		default:
			b.WriteByte(arg[i])
		}
	}
	return b.String()
}

// cEscapes are the escapes systemd's cescape() writes for control
// characters.
var cEscapes = map[byte]byte{'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

// kubeletExpand applies the kubelet's expansion of a container command
// (k8s third_party/forked/golang/expansion): "$$" is "$", "$(VAR)" is the
// variable when defined.
func kubeletExpand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			if j := strings.IndexByte(s[i:], ')'); j > 0 {
				if v, ok := vars[s[i+2:i+j]]; ok {
					b.WriteString(v)
					i += j
					continue
				}
			}
			b.WriteByte('$')
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
