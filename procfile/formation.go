package procfile

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Formation maps process types to instance counts. The key "all" sets the
// count of every type not named. A nil Formation means one of each type.
type Formation map[string]int

// All is the formation key that sets the default count.
const All = "all"

// MaxInstances is the most instances of one type: ports step by 100 per
// type, so a 101st instance would take the next type's first port.
const MaxInstances = 100

// MaxPort is the highest TCP port.
const MaxPort = 65535

// Instance is one process ganger runs: "web.2" is Type "web", Num 2.
type Instance struct {
	Type    string `json:"type"`
	Num     int    `json:"num"`   // 1-based
	Name    string `json:"name"`  // Type + "." + Num
	Index   int    `json:"index"` // the entry's index in the Procfile
	Port    int    `json:"port"`
	Command string `json:"command"`
}

// ParseFormation parses "web=2,all=1" (foreman's -m, forego's -c) and heroku
// local's positional "web=2,worker", where a bare name means 1. Blanks are
// ignored, empty items are skipped. A bad item is an error naming it.
//
// A spec with no items ("" or ",") yields a nil Formation: one of each type.
// Every bad item is reported, joined with errors.Join.
func ParseFormation(spec string) (Formation, error) {
	var f Formation
	var errs []error
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, countText, hasCount := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		count := 1
		if hasCount {
			n, err := parseCount(strings.TrimSpace(countText))
			if err != nil {
				errs = append(errs, fmt.Errorf("formation %q: %w", item, err))
				continue
			}
			count = n
		}
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("formation %q: process name missing; hint: items look like \"web=2\"", item))
			continue
		case !validName(name):
			errs = append(errs, fmt.Errorf("formation %q: invalid process name %s; hint: %s, at most %d long",
				item, excerpt(name), nameHint, MaxNameLen))
			continue
		}
		if _, dup := f[name]; dup {
			errs = append(errs, fmt.Errorf("formation %q: process %q given twice", item, name))
			continue
		}
		if f == nil {
			f = Formation{}
		}
		f[name] = count
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// parseCount parses a formation count: decimal digits only.
func parseCount(s string) (int, error) {
	bad := errors.New("count must be a whole number >= 0")
	if s == "" {
		return 0, bad
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("count %s is too large", excerpt(s))
	}
	return n, nil
}

// String renders f as "name=N,..." with keys sorted, the form ParseFormation
// reads back.
func (f Formation) String() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(f[k]))
	}
	return b.String()
}

// Instances expands p into the instances to run, in Procfile order, then by
// instance number.
//
// types are the types named on the command line; when empty, every entry
// but "release" is selected. Counts: f[type] when present, else f["all"]
// when present, else 1 when f is nil or the type was named in types, else 0.
// "release" is only ever selected when named in types or explicitly in f.
// A type in types or f that the Procfile lacks is an error listing the
// types it has. A count over 100 (ports would collide with the next type) or
// a port above 65535 is an error.
//
// All problems are reported, joined with errors.Join. A formation that
// scales every selected type to 0 yields no instances and no error.
func Instances(p *Procfile, types []string, f Formation, basePort int) ([]Instance, error) {
	if p == nil {
		return nil, errors.New("no Procfile to expand")
	}
	var errs []error
	if basePort < 0 || basePort > MaxPort {
		errs = append(errs, fmt.Errorf("base port %d is outside 0-%d; hint: pick another with -p", basePort, MaxPort))
	}

	unknown := func(name string) error {
		return fmt.Errorf("unknown process type %q (Procfile has: %s)", name, strings.Join(p.Names(), ", "))
	}
	named := map[string]bool{}
	for _, t := range types {
		if _, _, ok := p.Lookup(t); !ok {
			errs = append(errs, unknown(t))
			continue
		}
		named[t] = true
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys) // stable error order
	for _, k := range keys {
		if k != All {
			if _, _, ok := p.Lookup(k); !ok {
				errs = append(errs, unknown(k))
				continue
			}
		}
		if n := f[k]; n < 0 {
			errs = append(errs, fmt.Errorf("formation %s=%d: count must be a whole number >= 0", k, n))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	var out []Instance
	for index, e := range p.Entries {
		count := 0
		switch {
		case len(types) > 0 && !named[e.Name]:
			continue
		case len(types) == 0 && e.Name == Release:
			if _, explicit := f[Release]; !explicit {
				continue
			}
		}
		if n, ok := f[e.Name]; ok {
			count = n
		} else if n, ok := f[All]; ok {
			count = n
		} else if f == nil || named[e.Name] {
			count = 1
		}
		if count > MaxInstances {
			errs = append(errs, fmt.Errorf("too many instances of %q (%d): at most %d, because ports step by 100 per process type",
				e.Name, count, MaxInstances))
			continue
		}
		if count == 0 {
			continue
		}
		if last := Port(basePort, index, count); last > MaxPort {
			// Name the first instance past the limit.
			num := MaxPort - Port(basePort, index, 1) + 2
			num = max(num, 1)
			errs = append(errs, fmt.Errorf("%s.%d would get port %d, above %d; hint: choose a lower base port with -p",
				e.Name, num, Port(basePort, index, num), MaxPort))
			continue
		}
		for num := 1; num <= count; num++ {
			out = append(out, Instance{
				Type:    e.Name,
				Num:     num,
				Name:    e.Name + "." + strconv.Itoa(num),
				Index:   index,
				Port:    Port(basePort, index, num),
				Command: e.Command,
			})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Port is the PORT of instance num (1-based) of the entry at index.
func Port(base, index, num int) int { return base + 100*index + num - 1 }
