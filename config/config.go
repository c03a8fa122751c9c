package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// FileName is the file's name at the app root.
const FileName = "ganger.yml"

// File is a parsed ganger.yml. The zero value (no file) is valid and sets
// nothing.
type File struct {
	Path         string        // as given to Read, for messages
	Debounce     time.Duration // 0: the watcher's default
	DebounceLine int
	WatchIgnore  []string
	Processes    map[string]*Process // by process type

	// OnCrash is a shell command run whenever a process exits without
	// ganger asking it to (see package app); "" when not set.
	OnCrash     string
	OnCrashLine int
	// Notify asks for a desktop notification on the same events.
	Notify bool
	// Router puts the platform's router in front of web (start --router).
	Router bool
	// Daemon makes start detach (start -D).
	Daemon bool
}

// Process holds one process type's settings. Each Line is where the key
// was, 0 when it was not set.
type Process struct {
	Type string
	Line int

	Restart     string // "never", "on-failure", "always"; "" when not set
	RestartLine int

	Oneshot bool
	CanDie  bool
	// TTY runs it on a pseudo-terminal that takes input, so that "ganger
	// attach" can drive it (a debugger, a REPL), even without --tty.
	TTY bool

	StopSignal     string // upper case without "SIG": "INT"; "" when not set
	StopSignalLine int

	Watch     []string // globs relative to the app root
	WatchLine int

	// Ready is nil when not set. Web's default (port) is the caller's.
	Ready     *Ready
	ReadyLine int

	After     []string
	AfterLine int
}

// Ready is the readiness a process declared.
type Ready struct {
	Port bool   // its PORT accepts connections
	Line string // a regular expression a line of its output matches
}

// LineError is a problem at one line of the file.
type LineError struct {
	Path string
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Location is where the problem is: the file, and the line or 0.
func (e *LineError) Location() (file string, line int) { return e.Path, e.Line }

// Detail is the problem without its location.
func (e *LineError) Detail() string { return e.Msg }

// Signals are the stop signals a process may name.
var Signals = []string{"TERM", "INT", "QUIT", "HUP", "USR1", "USR2", "KILL"}

// ReadFile reads path; a missing file is no error and an empty File.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Path: path, Processes: map[string]*Process{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a ganger.yml from r; path names it in errors. Every problem
// found is returned, joined, each a *LineError naming the line. With an
// error, the File returned holds what could be read around the problems
// (nothing after a YAML syntax error), so a caller can still Check it and
// report every problem in one go: an unknown process is not hidden behind a
// misspelt key. Only a failure to read r returns a nil File.
func Parse(r io.Reader, path string) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f := &File{Path: path, Processes: map[string]*Process{}}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		return f, yamlError(path, err)
	}
	p := &parser{path: path}
	// A second document ("---") would be ignored: say so.
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.add(yamlError(path, err))
	case !isEmptyDoc(&next):
		p.add(p.errf(&next, "a second YAML document starts here; hint: ganger reads only the first, so merge the two and remove the \"---\""))
	}
	if isEmptyDoc(&doc) {
		return f, errors.Join(p.errs...)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add(p.errf(root, "expected keys such as processes:, debounce: and watch_ignore:"))
		return f, errors.Join(p.errs...)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if p.twice(seen, k, "") {
			continue
		}
		switch k.Value {
		case "processes":
			p.processes(f, v)
		case "debounce":
			f.DebounceLine = k.Line
			if d, ok := p.duration(v); ok {
				f.Debounce = d
			}
		case "watch_ignore":
			f.WatchIgnore = p.strings(v, "watch_ignore")
		case "on_crash", "on-crash":
			f.OnCrashLine = k.Line
			if s, ok := p.scalar(v, "on_crash"); ok && v.Tag != "!!null" {
				f.OnCrash = s
			}
		case "notify":
			f.Notify = p.boolean(v, "notify")
		case "router":
			f.Router = p.boolean(v, "router")
		case "daemon":
			f.Daemon = p.boolean(v, "daemon")
		default:
			p.add(p.errf(k, "unknown key %q; known: %s", k.Value, strings.Join(topKeys, ", ")))
		}
	}
	return f, errors.Join(p.errs...)
}

// isEmptyDoc reports whether a document holds nothing: no content, or a
// bare "---".
func isEmptyDoc(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// yamlError is a YAML syntax error at its line.
func yamlError(path string, err error) *LineError {
	return &LineError{Path: path, Line: yamlErrLine(err), Msg: cleanYAMLErr(err) + `; hint: ganger.yml is YAML, such as "processes: {web: {restart: on-failure}}"`}
}

type parser struct {
	path string
	errs []error
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) *LineError {
	return &LineError{Path: p.path, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) add(err error) { p.errs = append(p.errs, err) }

// twice reports, as an error, a key k already in seen (a YAML parser keeps
// the last silently); otherwise it adds k. where prefixes the message.
func (p *parser) twice(seen map[string]int, k *yaml.Node, where string) bool {
	if first, dup := seen[k.Value]; dup {
		p.add(p.errf(k, "%s%q is set twice (first at line %d); hint: keep one", where, k.Value, first))
		return true
	}
	seen[k.Value] = k.Line
	return false
}

var topKeys = []string{"processes", "debounce", "watch_ignore", "on_crash", "notify", "router", "daemon"}

var processKeys = []string{"restart", "oneshot", "can_die", "tty", "stop_signal", "watch", "ready", "after"}

func (p *parser) processes(f *File, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.add(p.errf(n, "processes: expected process types, such as \"web: {restart: on-failure}\""))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := f.Processes[k.Value]; dup {
			p.add(p.errf(k, "process %q is set twice (first at line %d)", k.Value, f.Processes[k.Value].Line))
			continue
		}
		pr := &Process{Type: k.Value, Line: k.Line}
		f.Processes[k.Value] = pr
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.MappingNode {
			p.add(p.errf(v, "%s: expected settings such as \"restart: on-failure\"", k.Value))
			continue
		}
		seen := map[string]int{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			if !p.twice(seen, v.Content[j], k.Value+": ") {
				p.processKey(pr, v.Content[j], v.Content[j+1])
			}
		}
	}
}

func (p *parser) processKey(pr *Process, k, v *yaml.Node) {
	switch k.Value {
	case "restart":
		pr.RestartLine = k.Line
		s, ok := p.scalar(v, pr.Type+": restart")
		if !ok {
			return
		}
		switch s {
		case "never", "no", "false":
			pr.Restart = "never"
		case "on-failure", "on_failure":
			pr.Restart = "on-failure"
		case "always", "true":
			pr.Restart = "always"
		default:
			p.add(p.errf(v, "%s: restart %q: want never, on-failure or always", pr.Type, s))
		}
	case "oneshot":
		pr.Oneshot = p.boolean(v, pr.Type+": oneshot")
	case "can_die", "can-die":
		pr.CanDie = p.boolean(v, pr.Type+": can_die")
	case "tty":
		pr.TTY = p.boolean(v, pr.Type+": tty")
	case "stop_signal", "stop-signal":
		pr.StopSignalLine = k.Line
		s, ok := p.scalar(v, pr.Type+": stop_signal")
		if !ok {
			return
		}
		name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
		found := false
		for _, sig := range Signals {
			found = found || sig == name
		}
		if !found {
			p.add(p.errf(v, "%s: stop_signal %q: want one of %s", pr.Type, s, strings.Join(Signals, ", ")))
			return
		}
		pr.StopSignal = name
	case "watch":
		pr.WatchLine = k.Line
		pr.Watch = p.strings(v, pr.Type+": watch")
	case "after":
		pr.AfterLine = k.Line
		pr.After = p.strings(v, pr.Type+": after")
	case "ready":
		pr.ReadyLine = k.Line
		pr.Ready = p.ready(pr.Type, v)
	default:
		p.add(p.errf(k, "%s: unknown key %q; known: %s", pr.Type, k.Value, strings.Join(processKeys, ", ")))
	}
}

func (p *parser) ready(typ string, v *yaml.Node) *Ready {
	const want = `want port, none or {line: "REGEX"}`
	switch v.Kind {
	case yaml.ScalarNode:
		switch v.Value {
		case "port":
			return &Ready{Port: true}
		case "none", "started":
			return &Ready{}
		}
		p.add(p.errf(v, "%s: ready %q: %s", typ, v.Value, want))
		return nil
	case yaml.MappingNode:
		r := &Ready{}
		seen := map[string]int{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			if p.twice(seen, k, typ+": ready: ") {
				continue
			}
			switch k.Value {
			case "port":
				r.Port = p.boolean(val, typ+": ready: port")
			case "line":
				s, ok := p.scalar(val, typ+": ready: line")
				if !ok {
					continue
				}
				if _, err := regexp.Compile(s); err != nil {
					p.add(p.errf(val, "%s: ready: line %q is not a regular expression: %v", typ, s, err))
					continue
				}
				r.Line = s
			default:
				p.add(p.errf(k, "%s: ready: unknown key %q; known: line, port", typ, k.Value))
			}
		}
		return r
	}
	p.add(p.errf(v, "%s: ready: %s", typ, want))
	return nil
}

func (p *parser) scalar(v *yaml.Node, what string) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		p.add(p.errf(v, "%s: expected a plain value", what))
		return "", false
	}
	return v.Value, true
}

func (p *parser) boolean(v *yaml.Node, what string) bool {
	s, ok := p.scalar(v, what)
	if !ok {
		return false
	}
	switch s {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	p.add(p.errf(v, "%s: %q is not true or false", what, s))
	return false
}

// strings reads one string or a list of them.
func (p *parser) strings(v *yaml.Node, what string) []string {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Value == "" {
			return nil
		}
		return []string{v.Value}
	case yaml.SequenceNode:
		var out []string
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode || it.Value == "" {
				p.add(p.errf(it, "%s: expected a list of names or patterns", what))
				continue
			}
			out = append(out, it.Value)
		}
		return out
	}
	p.add(p.errf(v, "%s: expected a list, such as [\"**/*.go\"]", what))
	return nil
}

func (p *parser) duration(v *yaml.Node) (time.Duration, bool) {
	s, ok := p.scalar(v, "debounce")
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil || d <= 0 {
		p.add(p.errf(v, "debounce %q: want a duration such as 200ms or 1s (a bare number is seconds)", s))
		return 0, false
	}
	return d, true
}

// Check checks what needs the caller's knowledge: that every process type
// named (as a key or in after:) is in the Procfile (types, in order), and
// that every watch glob is valid (checkGlob). It also checks that after:
// makes no cycle, which would leave its processes waiting for each other
// forever: a process waiting for itself, or a -> b -> a, reported at the
// after: that closes the cycle. It returns every problem, joined, in line
// order.
func (f *File) Check(types []string, checkGlob func(string) error) error {
	if f == nil {
		return nil
	}
	known := map[string]bool{}
	for _, t := range types {
		known[t] = true
	}
	var errs []*LineError
	add := func(line int, format string, args ...any) {
		errs = append(errs, &LineError{Path: f.Path, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	procs := f.sorted()
	for _, pr := range procs {
		if !known[pr.Type] {
			add(pr.Line, "process %q is not in the Procfile; known: %s", pr.Type, strings.Join(types, ", "))
		}
		for _, a := range pr.After {
			switch {
			case a == pr.Type:
				add(pr.AfterLine, "%s: after: a process cannot wait for itself; hint: remove %q from its after:", pr.Type, a)
			case !known[a]:
				add(pr.AfterLine, "%s: after: %q is not in the Procfile; known: %s", pr.Type, a, strings.Join(types, ", "))
			}
		}
		if checkGlob != nil {
			for _, g := range pr.Watch {
				if err := checkGlob(g); err != nil {
					add(pr.WatchLine, "%s: watch: %v", pr.Type, err)
				}
			}
		}
	}
	for _, c := range f.cycles(procs) {
		closer := f.Processes[c[len(c)-2]]
		add(closer.AfterLine, "%s: after: %q closes a cycle, %s, so none of them can start; hint: remove one of these after: entries",
			closer.Type, c[len(c)-1], strings.Join(c, " -> "))
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// cycles finds the cycles of after: between processes of the file, by a
// depth-first walk in file order; each is the path of types that closes
// it, its first type repeated at the end ([a b a]). Every cycle of after:
// lies on at least one of them. A process waiting for itself is Check's
// own message, not a cycle here.
func (f *File) cycles(procs []*Process) [][]string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var found [][]string
	var visit func(pr *Process)
	visit = func(pr *Process) {
		state[pr.Type] = onPath
		path = append(path, pr.Type)
		for i, a := range pr.After {
			next, ok := f.Processes[a]
			if !ok || a == pr.Type || slices.Contains(pr.After[:i], a) {
				continue
			}
			switch state[a] {
			case onPath:
				start := slices.Index(path, a)
				found = append(found, append(slices.Clone(path[start:]), a))
			case unseen:
				visit(next)
			}
		}
		path = path[:len(path)-1]
		state[pr.Type] = done
	}
	for _, pr := range procs {
		if state[pr.Type] == unseen {
			visit(pr)
		}
	}
	return found
}

// For returns the settings of process type t, or empty ones.
func (f *File) For(t string) *Process {
	if f != nil {
		if p, ok := f.Processes[t]; ok {
			return p
		}
	}
	return &Process{Type: t}
}

// sorted returns the processes in file order (by name within a line).
func (f *File) sorted() []*Process {
	out := make([]*Process, 0, len(f.Processes))
	for _, p := range f.Processes {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Type < out[j].Type // several on one line: {a: {}, b: {}}
	})
	return out
}

// yamlLine compiles on first use: every start of ganger would pay for it
// otherwise.
var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`line (\d+)`) })

// yamlErrLine finds the line a yaml error names, 0 if none.
func yamlErrLine(err error) int {
	m := yamlLine().FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n := 0
	fmt.Sscan(m[1], &n)
	return n
}

// cleanYAMLErr drops the "yaml: line N:" prefix the line number replaces.
func cleanYAMLErr(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(s, ": "); i >= 0 && strings.HasPrefix(s, "line ") {
		s = s[i+2:]
	}
	return s
}
