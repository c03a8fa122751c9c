package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
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
// found is returned, joined.
func Parse(r io.Reader, path string) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f := &File{Path: path, Processes: map[string]*Process{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &LineError{Path: path, Line: yamlErrLine(err), Msg: cleanYAMLErr(err) + `; hint: ganger.yml is YAML, such as "processes: {web: {restart: on-failure}}"`}
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	p := &parser{path: path}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "expected keys such as processes:, debounce: and watch_ignore:")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
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
		default:
			p.add(p.errf(k, "unknown key %q; known: processes, debounce, watch_ignore", k.Value))
		}
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return f, nil
}

type parser struct {
	path string
	errs []error
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) *LineError {
	return &LineError{Path: p.path, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) add(err error) { p.errs = append(p.errs, err) }

var processKeys = []string{"restart", "oneshot", "can_die", "stop_signal", "watch", "ready", "after"}

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
		for j := 0; j+1 < len(v.Content); j += 2 {
			p.processKey(pr, v.Content[j], v.Content[j+1])
		}
	}
}

func (p *parser) processKey(pr *Process, k, v *yaml.Node) {
	switch k.Value {
	case "restart":
		pr.RestartLine = k.Line
		s, ok := p.scalar(v, "restart")
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
	case "stop_signal", "stop-signal":
		pr.StopSignalLine = k.Line
		s, ok := p.scalar(v, "stop_signal")
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
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			switch k.Value {
			case "port":
				r.Port = p.boolean(val, typ+": ready: port")
			case "line":
				s, ok := p.scalar(val, "ready: line")
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
// that every watch glob is valid (checkGlob). It returns every problem,
// joined.
func (f *File) Check(types []string, checkGlob func(string) error) error {
	known := map[string]bool{}
	for _, t := range types {
		known[t] = true
	}
	var errs []error
	for _, pr := range f.sorted() {
		if !known[pr.Type] {
			errs = append(errs, &LineError{Path: f.Path, Line: pr.Line, Msg: fmt.Sprintf("process %q is not in the Procfile; known: %s", pr.Type, strings.Join(types, ", "))})
		}
		for _, a := range pr.After {
			switch {
			case a == pr.Type:
				errs = append(errs, &LineError{Path: f.Path, Line: pr.AfterLine, Msg: fmt.Sprintf("%s: after: a process cannot wait for itself", pr.Type)})
			case !known[a]:
				errs = append(errs, &LineError{Path: f.Path, Line: pr.AfterLine, Msg: fmt.Sprintf("%s: after: %q is not in the Procfile; known: %s", pr.Type, a, strings.Join(types, ", "))})
			}
		}
		if checkGlob != nil {
			for _, g := range pr.Watch {
				if err := checkGlob(g); err != nil {
					errs = append(errs, &LineError{Path: f.Path, Line: pr.WatchLine, Msg: fmt.Sprintf("%s: watch: %v", pr.Type, err)})
				}
			}
		}
	}
	return errors.Join(errs...)
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

// sorted returns the processes in file order.
func (f *File) sorted() []*Process {
	out := make([]*Process, 0, len(f.Processes))
	for _, p := range f.Processes {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
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
