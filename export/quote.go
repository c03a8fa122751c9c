package export

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds every engine's quoting. Each function names the engine
// code or document it follows; the tests check each against the engine
// itself where it runs here, or against a port of its parser. Two rules
// live elsewhere because other packages use them too: procfile.ShellQuote
// (a POSIX sh word: the template function shQuote and supervisord's env
// file) and env.DoubleQuote (a Compose env_file value).

// systemdWord quotes s as one word of an Exec*= command line: specifiers
// ("%%"), systemd's own $VAR expansion ("$$"), then C-style escapes inside
// double quotes (systemd.service(5), "Command lines"). Unlike an env-file
// value (systemdEnvValue, env.DoubleQuote), '$' is doubled, not escaped.
func systemdWord(s string) (string, error) {
	if err := plainText("command", s); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '%':
			b.WriteString("%%")
		case '$':
			b.WriteString("$$")
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// systemdPath escapes the specifiers in a path setting such as
// WorkingDirectory= or EnvironmentFile= (systemd.unit(5), "Specifiers").
// A path cannot span lines or end in a backslash (which would continue the
// line).
func systemdPath(s string) (string, error) {
	if err := plainText("path", s); err != nil {
		return "", err
	}
	if strings.HasSuffix(s, `\`) {
		return "", fmt.Errorf("path %q ends in a backslash, which systemd reads as a line continuation", s)
	}
	return strings.ReplaceAll(s, "%", "%%"), nil
}

// systemdEnvValue quotes a value for an EnvironmentFile=. systemd's
// parse_env_file_internal (src/basic/env-file.c) keeps everything inside
// double quotes, newlines included, and unescapes only \" \\ \` \$; a
// backslash before a newline would be a continuation, which escaping the
// backslash rules out. No specifier or $VAR expansion happens in the file.
//
// It is not env.DoubleQuote, whose rule differs: systemd has no \n \r \t
// escapes (it would keep "\n" as a backslash and an n), so line breaks and
// tabs stay raw here, and it needs '`' escaped, which env leaves alone.
func systemdEnvValue(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		if strings.ContainsRune("\"\\`$", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// supervisorArg renders s as one argument of a supervisord command= line.
// supervisord (supervisor/options.py) reads the file with a RawConfigParser
// whose inline comments start at ";" or "#" after whitespace, then expands
// "%(name)s" with Python's % operator, then splits the line with
// shlex.split (POSIX mode). So: '%' is doubled, and every character shlex or
// the comment rule would see is escaped with a backslash outside quotes.
func supervisorArg(s string) (string, error) {
	if err := plainText("supervisord argument", s); err != nil {
		return "", err
	}
	if s == "" {
		return `""`, nil
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '%':
			b.WriteString("%%")
		case unicode.IsSpace(r) || strings.ContainsRune(`'"\;#`, r):
			// Python's configparser strips and splits comments at Unicode
			// blanks, not just ASCII ones.
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	if r, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(r) {
		// configparser strips the value's end, escaped or not; an empty
		// quoted string after it keeps the blank and means nothing to shlex.
		b.WriteString(`""`)
	}
	return b.String(), nil
}

// supervisorValue checks that s can be a whole supervisord option value
// that is %-expanded twice (stdout_logfile is): no '%', no ';' or '#' that
// could start a comment, no surrounding blanks.
func supervisorValue(s string) (string, error) {
	if err := plainText("supervisord value", s); err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "%;#") || strings.TrimSpace(s) != s {
		return "", fmt.Errorf("%q cannot be written in a supervisord option: it holds '%%', ';', '#' or surrounding blanks", s)
	}
	return s, nil
}

// dollars doubles every '$': Compose interpolates "$VAR" in its file and the
// kubelet expands "$(VAR)" in a container's command; both read "$$" as "$".
func dollars(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// jsonString renders s as a JSON string literal that YAML also reads as a
// double-quoted scalar with the same value: besides JSON's escapes, what
// YAML does not allow raw (DEL, C1 controls, U+FEFF, U+FFFE, U+FFFF) or
// reads as a line break (U+0085, U+2028, U+2029) is written as \uXXXX.
// It is not env.DoubleQuote: JSON has no \$ escape and needs the \uXXXX
// ones.
func jsonString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// xmlText escapes s for XML character data. XML 1.0 cannot hold most control
// characters at all, so they are an error rather than silently replaced.
func xmlText(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8", s)
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&apos;")
		case r == '\t':
			b.WriteString("&#x9;")
		case r == '\n':
			b.WriteString("&#xA;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return "", fmt.Errorf("the character %U cannot be written in XML", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// dnsLabel turns a name into an RFC 1123 label as Kubernetes wants it:
// lower case, '_' and '.' as '-', no '-' at either end.
func dnsLabel(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if r == '_' || r == '.' {
			return '-'
		}
		return r
	}, s)
	return strings.Trim(s, "-")
}

// runitEnvFile renders a value as a file of a chpst -e directory. runit's
// chpst.c edir() keeps the first line only, strips trailing blanks and tabs,
// turns NUL bytes into newlines, and unsets the variable when the file is
// empty. So newlines are written as NUL; an empty value or one ending in a
// blank cannot be represented (callers set empty values in the run script).
func runitEnvFile(key, v string) ([]byte, error) {
	if strings.HasSuffix(v, " ") || strings.HasSuffix(v, "\t") {
		return nil, fmt.Errorf("config key %s: its value ends in a blank or tab, which chpst -e strips; runit cannot carry it", key)
	}
	return []byte(strings.ReplaceAll(v, "\n", "\x00") + "\n"), nil
}
