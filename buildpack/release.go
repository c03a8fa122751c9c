package buildpack

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ProcessType is one process type: a name and the command it runs.
type ProcessType struct {
	Name    string `json:"name"`
	Command string `json:"command"`
}

// Release is what bin/release printed (the YAML keys of the classic API).
type Release struct {
	Addons              []string          `json:"addons,omitempty"`
	ConfigVars          map[string]string `json:"config_vars,omitempty"`
	DefaultProcessTypes []ProcessType     `json:"default_process_types,omitempty"` // in YAML order
}

// maxReleaseBytes bounds bin/release's output.
const maxReleaseBytes = 1 << 20

// parseRelease parses bin/release output. Empty output, "--- {}" and null
// are an empty release. The top level must be a mapping; config_vars and
// default_process_types must map names to scalars; addons is a list whose
// scalar items are kept. Unknown keys are ignored.
func parseRelease(data []byte) (Release, error) {
	var rel Release
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return rel, fmt.Errorf("bin/release printed invalid YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return rel, nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return rel, nil
	}
	if top.Kind != yaml.MappingNode {
		return rel, fmt.Errorf("bin/release output (line %d): expected a mapping with addons, config_vars, default_process_types", top.Line)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if isNull(v) {
			continue
		}
		switch k.Value {
		case "addons":
			if v.Kind != yaml.SequenceNode {
				return rel, fmt.Errorf("bin/release output line %d: addons must be a list", v.Line)
			}
			for _, a := range v.Content {
				if a.Kind == yaml.ScalarNode {
					rel.Addons = append(rel.Addons, a.Value)
				}
			}
		case "config_vars":
			pairs, err := scalarMap(v, "config_vars")
			if err != nil {
				return rel, err
			}
			if len(pairs) > 0 {
				rel.ConfigVars = make(map[string]string, len(pairs))
			}
			for _, p := range pairs {
				if !validKey(p.Name) {
					return rel, fmt.Errorf("bin/release output: config var %q is not a valid name (letters, digits, _; not starting with a digit)", p.Name)
				}
				rel.ConfigVars[p.Name] = p.Command
			}
		case "default_process_types":
			pairs, err := scalarMap(v, "default_process_types")
			if err != nil {
				return rel, err
			}
			for _, p := range pairs {
				if !validProcessName(p.Name) {
					return rel, fmt.Errorf("bin/release output: process type %q is not a valid name (letters, digits, _ and -)", p.Name)
				}
				if strings.TrimSpace(p.Command) == "" {
					return rel, fmt.Errorf("bin/release output: process type %q has an empty command", p.Name)
				}
			}
			rel.DefaultProcessTypes = pairs
		}
	}
	return rel, nil
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// scalarMap reads a mapping of scalars in document order; a later
// duplicate key replaces the earlier value in place.
func scalarMap(n *yaml.Node, what string) ([]ProcessType, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("bin/release output line %d: %s must be a mapping", n.Line, what)
	}
	var out []ProcessType
	idx := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("bin/release output line %d: %s must map names to strings", k.Line, what)
		}
		val := v.Value
		if isNull(v) {
			val = ""
		}
		if j, ok := idx[k.Value]; ok {
			out[j].Command = val
			continue
		}
		idx[k.Value] = len(out)
		out = append(out, ProcessType{Name: k.Value, Command: val})
	}
	return out, nil
}

// merge overlays a later buildpack's release on r: its keys win, new
// process types are appended in its order.
func (r Release) merge(later Release) Release {
	out := Release{Addons: append(append([]string(nil), r.Addons...), later.Addons...)}
	if len(r.ConfigVars)+len(later.ConfigVars) > 0 {
		out.ConfigVars = map[string]string{}
		for k, v := range r.ConfigVars {
			out.ConfigVars[k] = v
		}
		for k, v := range later.ConfigVars {
			out.ConfigVars[k] = v
		}
	}
	out.DefaultProcessTypes = append([]ProcessType(nil), r.DefaultProcessTypes...)
	for _, p := range later.DefaultProcessTypes {
		replaced := false
		for i := range out.DefaultProcessTypes {
			if out.DefaultProcessTypes[i].Name == p.Name {
				out.DefaultProcessTypes[i].Command = p.Command
				replaced = true
			}
		}
		if !replaced {
			out.DefaultProcessTypes = append(out.DefaultProcessTypes, p)
		}
	}
	return out
}

func validProcessName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validKey reports whether s can be an environment variable and an
// ENV_DIR file name: [A-Za-z_][A-Za-z0-9_]*.
func validKey(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
