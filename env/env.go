package env

import "io"

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
	// unexported fields
}

// FromEnviron builds an Env from "KEY=VALUE" strings such as os.Environ(),
// every key with source SourceShell. Entries without "=" are skipped.
func FromEnviron(environ []string) *Env { panic("TODO") }

// Get returns the value of key.
func (e *Env) Get(key string) (string, bool) { panic("TODO") }

// Lookup returns the variable key with its source.
func (e *Env) Lookup(key string) (Var, bool) { panic("TODO") }

// Set sets key to value from source, replacing any earlier value.
func (e *Env) Set(key, value, source string) { panic("TODO") }

// Len is the number of keys.
func (e *Env) Len() int { panic("TODO") }

// Vars returns every variable sorted by key.
func (e *Env) Vars() []Var { panic("TODO") }

// Environ renders the Env as "KEY=VALUE" strings sorted by key, for
// exec.Cmd.Env.
func (e *Env) Environ() []string { panic("TODO") }

// Clone returns an independent copy.
func (e *Env) Clone() *Env { panic("TODO") }

// Parse parses .env syntax from r. name is the file's path, used as each
// Var's Source and in errors ("NAME:LINE: ..."). lookup resolves variables
// not defined earlier in this input (nil: none); undefined ones expand to "".
// On failure it returns every problem found, joined with errors.Join, each a
// *LineError.
func Parse(r io.Reader, name string, lookup func(string) (string, bool)) ([]Var, error) {
	panic("TODO")
}

// Load returns base overlaid with each file in order (a later file wins).
// Expansion in a file sees its own keys so far, then everything merged
// before it. base is not modified. A missing or unreadable file is an error
// naming it; callers decide whether a default .env may be absent.
func Load(base *Env, files ...string) (*Env, error) { panic("TODO") }

// LineError is one problem at one line of an env file: "NAME:LINE: MSG".
type LineError struct {
	Path string
	Line int
	Msg  string
}

// MaxEntry is the longest "KEY=VALUE" string Linux will pass to a program
// (MAX_ARG_STRLEN, 128 KiB, including the terminating NUL).
const MaxEntry = 128 << 10

// CheckExec reports, naming the key, the first variable whose "KEY=VALUE"
// is too large to pass to a program, or a total environment size that
// execve would refuse (E2BIG). It never names values.
func (e *Env) CheckExec() error { panic("TODO") }

// IsSecret reports whether a variable's value should be masked when shown:
// keys containing KEY, SECRET, TOKEN, PASSWORD, PASSWD or CREDENTIAL (any
// case), and URLs carrying a password (scheme://user:pass@host).
func IsSecret(key, value string) bool { panic("TODO") }

// Mask returns value with its secret part replaced: the password of a URL
// ("postgres://u:****@host/db"), or "****" for the whole of anything else.
func Mask(value string) string { panic("TODO") }
