package procfile

import (
	"io"
)

// Release is the process type run once, before the formation, by the
// platform's release phase. It is not part of the default start set.
const Release = "release"

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
// "PATH:LINE: MSG" followed by "; HINT" when there is a hint.
type LineError struct {
	Path string
	Line int
	Msg  string
	Hint string
}

// Parse reads a Procfile from r. path names the file in errors. On failure it
// returns every problem found, joined with errors.Join, each a *LineError.
// A file with no entries is an error (Line 0).
func Parse(r io.Reader, path string) (*Procfile, error) { panic("TODO") }

// ReadFile opens and parses the Procfile at path.
func ReadFile(path string) (*Procfile, error) { panic("TODO") }

// Lookup returns the entry named name and its index in the file.
func (p *Procfile) Lookup(name string) (Entry, int, bool) { panic("TODO") }

// Names returns the entry names in file order.
func (p *Procfile) Names() []string { panic("TODO") }
