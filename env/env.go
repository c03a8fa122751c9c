package env

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Sources other than a file path.
const (
	SourceShell  = "shell"  // inherited from ganger's own environment
	SourceGanger = "ganger" // set by ganger: PORT, PS, DYNO
)

// Var is one variable with where it came from: SourceShell, SourceGanger, or
// the path of the env file (Line is then its 1-based line).
type Var struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Line   int    `json:"line,omitempty"`
}

// Env is an environment with the source of each key. The zero value is an
// empty Env ready to use. An Env is not safe for concurrent mutation; Clone
// it to hand a copy to another goroutine.
type Env struct {
	vars map[string]Var
}

// FromEnviron builds an Env from "KEY=VALUE" strings such as os.Environ(),
// every key with source SourceShell. Entries without "=" are skipped, and so
// are entries with an empty key. When a key repeats, the last entry wins, as
// in os/exec.
func FromEnviron(environ []string) *Env {
	e := &Env{vars: make(map[string]Var, len(environ))}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		e.vars[k] = Var{Key: k, Value: v, Source: SourceShell}
	}
	return e
}

// Get returns the value of key.
func (e *Env) Get(key string) (string, bool) {
	v, ok := e.Lookup(key)
	return v.Value, ok
}

// Lookup returns the variable key with its source.
func (e *Env) Lookup(key string) (Var, bool) {
	if e == nil {
		return Var{}, false
	}
	v, ok := e.vars[key]
	return v, ok
}

// Set sets key to value from source, replacing any earlier value.
func (e *Env) Set(key, value, source string) {
	e.set(Var{Key: key, Value: value, Source: source})
}

func (e *Env) set(v Var) {
	if e.vars == nil {
		e.vars = map[string]Var{}
	}
	e.vars[v.Key] = v
}

// Len is the number of keys.
func (e *Env) Len() int {
	if e == nil {
		return 0
	}
	return len(e.vars)
}

// Vars returns every variable sorted by key.
func (e *Env) Vars() []Var {
	if e == nil {
		return nil
	}
	out := make([]Var, 0, len(e.vars))
	for _, v := range e.vars {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Var) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Environ renders the Env as "KEY=VALUE" strings sorted by key, for
// exec.Cmd.Env.
func (e *Env) Environ() []string {
	vars := e.Vars()
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = v.Key + "=" + v.Value
	}
	return out
}

// Clone returns an independent copy.
func (e *Env) Clone() *Env {
	c := &Env{}
	if e == nil || len(e.vars) == 0 {
		return c
	}
	c.vars = make(map[string]Var, len(e.vars))
	for k, v := range e.vars {
		c.vars[k] = v
	}
	return c
}

// Load returns base overlaid with each file in order (a later file wins).
// Expansion in a file sees its own keys so far, then everything merged
// before it. base is not modified; a nil base is empty. A missing or
// unreadable file is an error naming it (a missing one wraps fs.ErrNotExist);
// callers decide whether a default .env may be absent.
func Load(base *Env, files ...string) (*Env, error) {
	merged := base.Clone()
	for _, name := range files {
		vars, err := loadFile(name, merged.Get)
		if err != nil {
			return nil, err
		}
		for _, v := range vars {
			merged.set(v)
		}
	}
	return merged, nil
}

func loadFile(name string, lookup func(string) (string, bool)) ([]Var, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fileError(name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("env file %q is a directory; name a file", name)
	}
	vars, err := Parse(f, name, lookup)
	var pe *fs.PathError
	if err != nil && errors.As(err, &pe) {
		return nil, fileError(name, err)
	}
	return vars, err
}

// notExistError says a file is missing without repeating the path twice.
type notExistError struct {
	name string
	err  error
}

func (e *notExistError) Error() string { return fmt.Sprintf("env file %q: no such file", e.name) }
func (e *notExistError) Unwrap() error { return e.err }

func fileError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &notExistError{name: name, err: err}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("env file %q: cannot read: %w", name, pe.Err)
	}
	return fmt.Errorf("env file %q: %w", name, err)
}

// LineError is one problem at one line of an env file: "NAME:LINE: MSG".
// With no line (a problem with the whole file) it reads "NAME: MSG", and
// with no name "line LINE: MSG".
type LineError struct {
	Path string
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	switch {
	case e.Path == "" && e.Line == 0:
		return e.Msg
	case e.Path == "":
		return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	case e.Line == 0:
		return e.Path + ": " + e.Msg
	}
	return e.Path + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Location is where the problem is: the file, and the line or 0.
func (e *LineError) Location() (file string, line int) { return e.Path, e.Line }

// Detail is the problem without its location.
func (e *LineError) Detail() string { return e.Msg }

// MaxEntry is the longest "KEY=VALUE" string Linux will pass to a program
// (MAX_ARG_STRLEN, 128 KiB, including the terminating NUL).
const MaxEntry = 128 << 10

// maxEnviron is the most CheckExec lets the environment take of the 2 MiB
// that Linux allows for arguments and environment together (a quarter of
// the default 8 MiB stack), leaving room for the command line.
const maxEnviron = 3 << 19 // 1.5 MiB

// CheckExec reports, naming the key, the first variable whose "KEY=VALUE"
// is too large to pass to a program, or a total environment size that
// execve would refuse (E2BIG). It never names values.
//
// The first variable is in key order. Keys that are empty or hold '=' or a
// NUL byte, and values holding a NUL byte, are errors too: execve cannot
// carry them. The total counts each entry with its NUL and an 8-byte
// pointer, and must stay under 1.5 MiB so the command line still fits.
func (e *Env) CheckExec() error {
	errs := e.execProblems(false)
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// CheckEntries is CheckExec for "ganger check": it reports every variable
// no program could receive, and the total size, joined. A problem with a
// variable set from a file is a *LineError naming that file and line, so
// the check can show where to fix it. It never names values.
func (e *Env) CheckEntries() error {
	return errors.Join(e.execProblems(true)...)
}

// execProblems finds what CheckExec and CheckEntries report, in key order,
// the total last. With inFile, a problem with a variable set from a file
// is a *LineError at that file and line; otherwise the message names them.
func (e *Env) execProblems(inFile bool) []error {
	var errs []error
	total := 8 // the terminating NULL pointer
	var largest Var
	largestSize := 0
	for _, v := range e.Vars() {
		var err error
		size := len(v.Key) + 1 + len(v.Value) + 1
		switch {
		case v.Key == "":
			err = errors.New("a variable has an empty name; programs cannot receive it")
		case strings.ContainsAny(v.Key, "=\x00"):
			err = fmt.Errorf("invalid variable name %q: names cannot hold '=' or a NUL byte", v.Key)
		case strings.IndexByte(v.Value, 0) >= 0:
			err = fmt.Errorf("variable %q%s holds a NUL byte; programs cannot receive it", v.Key, sourceSuffix(v, inFile))
		case size > MaxEntry:
			err = fmt.Errorf("variable %q%s is too large to pass to a program (%d bytes; Linux allows %d per variable)",
				v.Key, sourceSuffix(v, inFile), size, MaxEntry)
		}
		if err != nil {
			if inFile && v.Line > 0 {
				err = &LineError{Path: v.Source, Line: v.Line, Msg: err.Error()}
			}
			errs = append(errs, err)
			continue
		}
		if size > largestSize {
			largest, largestSize = v, size
		}
		total += size + 8
	}
	if total > maxEnviron {
		errs = append(errs, fmt.Errorf("environment is too large to pass to a program (%d bytes in %d variables; keep it under %d so it fits Linux's 2 MiB for arguments and environment); the largest is %q (%d bytes)",
			total, e.Len(), maxEnviron, largest.Key, largestSize))
	}
	return errs
}

// sourceSuffix names where v was set, " (from .env:3)", when it came from a
// file and the error does not say so already (inFile).
func sourceSuffix(v Var, inFile bool) string {
	if v.Line > 0 && !inFile {
		return fmt.Sprintf(" (from %s:%d)", v.Source, v.Line)
	}
	return ""
}

// The words of a key that mark its value as secret; see IsSecret.
var (
	// secretParts mark a key when a word holds them: DBPASSWORD, GITHUBTOKEN.
	secretParts = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL"}
	// secretSuffixes mark a key when a word ends in them: APIKEY, API_KEYS.
	secretSuffixes = []string{"KEY", "KEYS"}
	// secretWords mark a key when a word is one of them: DB_PASS, STRIPE_SK.
	secretWords = []string{"PASS", "PWD", "SK", "PRIVATE", "PEM", "CERT", "SALT", "DSN"}
	// secretLastWords mark a key only as its last word: REDIS_AUTH but not
	// SSH_AUTH_SOCK, ADMIN_SESSION but not XDG_SESSION_TYPE.
	secretLastWords = []string{"AUTH", "SESSION", "COOKIE", "SIGNATURE"}
)

// IsSecret reports whether a variable's value should be masked when shown.
// The key is split into words at every character other than an ASCII
// letter or digit, where lower case turns to upper case (apiKey), before
// the last capital of an acronym followed by lower case (APIKey), and
// between letters and digits (KEY2); words of digits only are dropped, and
// case does not matter. The value is secret when
//
//   - a word holds SECRET, TOKEN, PASSWORD, PASSWD, PASSPHRASE or
//     CREDENTIAL (AWS_SECRET_ACCESS_KEY, PGPASSWORD, GOOGLE_CREDENTIALS);
//   - a word ends in KEY or KEYS (API_KEY, APIKEY, but not KEYBOARD_LAYOUT);
//   - a word is PASS, PWD, SK, PRIVATE, PEM, CERT, SALT or DSN (DB_PASS,
//     STRIPE_SK, PRIVATE_PEM, SENTRY_DSN, but not PASSENGER_* or PATH);
//   - the last word is AUTH, SESSION, COOKIE or SIGNATURE (AUTH, REDIS_AUTH,
//     WEBHOOK_SIGNATURE, but not SSH_AUTH_SOCK or XDG_SESSION_TYPE);
//   - or, under any key, the value holds a URL with a password
//     (scheme://user:pass@host).
//
// The key PWD alone is not a secret: it is the shell's working directory.
func IsSecret(key, value string) bool {
	if key != "PWD" {
		words := keyWords(key)
		for i, w := range words {
			if containsAny(w, secretParts) || slices.Contains(secretWords, w) ||
				i == len(words)-1 && slices.Contains(secretLastWords, w) {
				return true
			}
			for _, suffix := range secretSuffixes {
				if strings.HasSuffix(w, suffix) {
					return true
				}
			}
		}
	}
	return len(urlPasswords(value)) > 0
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// keyWords splits key into upper-case words as IsSecret says.
func keyWords(key string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := key[start:end]
		start = -1
		if strings.Trim(w, "0123456789") != "" {
			words = append(words, strings.ToUpper(w))
		}
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !isUpper(c) && !isLower(c) && !isDigit(c) {
			flush(i)
			continue
		}
		if start >= 0 {
			prev := key[i-1]
			// Split apiKey, APIKey, KEY2 and S3KEY before the K or the 2.
			if isLower(prev) && isUpper(c) ||
				isUpper(prev) && isUpper(c) && i+1 < len(key) && isLower(key[i+1]) ||
				isDigit(prev) != isDigit(c) {
				flush(i)
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(key))
	return words
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Mask returns value with its secret part replaced: the password of a URL
// ("postgres://u:****@host/db"), or "****" for the whole of anything else.
// Every URL password in value is masked, the rest is kept. An empty value
// stays empty: there is nothing to hide, and seeing it unset helps.
func Mask(value string) string {
	if value == "" {
		return ""
	}
	spans := urlPasswords(value)
	if len(spans) == 0 {
		return "****"
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(value[last:sp[0]])
		b.WriteString("****")
		last = sp[1]
	}
	b.WriteString(value[last:])
	return b.String()
}

// urlPasswords finds the non-empty passwords of every
// scheme://user:password@host in s, as [start, end) byte offsets.
func urlPasswords(s string) [][2]int {
	var spans [][2]int
	for from := 0; ; {
		i := strings.Index(s[from:], "://")
		if i < 0 {
			return spans
		}
		sep := from + i
		from = sep + 3
		if !isScheme(s[:sep]) {
			continue
		}
		// The authority runs to the next '/', '?', '#', blank or ','.
		auth := s[from:]
		if j := strings.IndexAny(auth, "/?# \t\n,"); j >= 0 {
			auth = auth[:j]
		}
		at := strings.LastIndexByte(auth, '@')
		if at < 0 {
			continue
		}
		colon := strings.IndexByte(auth[:at], ':')
		if colon < 0 || colon+1 == at {
			continue
		}
		spans = append(spans, [2]int{from + colon + 1, from + at})
		from += at
	}
}

// isScheme reports whether prefix ends in a URL scheme:
// a letter followed by letters, digits, '+', '-' or '.'.
func isScheme(prefix string) bool {
	j := len(prefix)
	for j > 0 {
		c := prefix[j-1]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.' {
			j--
			continue
		}
		break
	}
	for j < len(prefix) {
		c := prefix[j]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return true
		}
		j++ // skip leading digits and punctuation: the scheme starts at a letter
	}
	return false
}
