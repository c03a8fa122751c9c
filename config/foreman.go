package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ForemanFile is the defaults file foreman users already have at the app
// root: YAML of long option names and their values.
const ForemanFile = ".foreman"

// Foreman is a parsed .foreman file: long option name -> value. A list
// value is joined with commas, as a repeated flag would be.
type Foreman struct {
	Path   string // "" when there is no file
	Values map[string]string
	Lines  map[string]int // the line of each key
}

// ReadForeman reads dir/.foreman when it exists; a missing file is an empty
// Foreman. known are the option names a file may set (the CLI derives them
// from its flags); "_" in a key reads as "-". An unknown key, a key set
// twice (YAML would keep the last silently), a value that is not plain and
// bad YAML are errors naming the file and line.
func ReadForeman(dir string, known []string) (*Foreman, error) {
	path := filepath.Join(dir, ForemanFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Foreman{Values: map[string]string{}, Lines: map[string]int{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseForeman(b, path, known)
}

// PeekForeman returns the value of option key in dir's .foreman, for a
// decision made before the options are resolved (whether "ganger start"
// needs a keeper): any problem with the file reads as not set, and is
// reported when the options are read.
func PeekForeman(dir, key string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, ForemanFile))
	if err != nil {
		return "", false
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) != nil {
		return "", false
	}
	for k, v := range m {
		if strings.ReplaceAll(k, "_", "-") == key {
			return fmt.Sprint(v), true
		}
	}
	return "", false
}

func parseForeman(b []byte, path string, known []string) (*Foreman, error) {
	fc := &Foreman{Path: path, Values: map[string]string{}, Lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &LineError{Path: path, Line: yamlErrLine(err), Msg: cleanYAMLErr(err) + `; hint: it holds YAML such as "port: 5000"`}
	}
	if len(doc.Content) == 0 {
		return fc, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &LineError{Path: path, Line: root.Line, Msg: `expected option names and values, such as "port: 5000"`}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := strings.ReplaceAll(k.Value, "_", "-")
		if !slices.Contains(known, key) {
			sorted := slices.Sorted(slices.Values(known))
			return nil, &LineError{Path: path, Line: k.Line, Msg: fmt.Sprintf("unknown option %q; hint: known options are %s", k.Value, strings.Join(sorted, ", "))}
		}
		if first, dup := fc.Lines[key]; dup {
			return nil, &LineError{Path: path, Line: k.Line, Msg: fmt.Sprintf("option %q is set twice (first at line %d); hint: keep one", key, first)}
		}
		fc.Lines[key] = k.Line
		switch v.Kind {
		case yaml.ScalarNode:
			fc.Values[key] = v.Value
		case yaml.SequenceNode:
			var items []string
			for _, it := range v.Content {
				items = append(items, it.Value)
			}
			fc.Values[key] = strings.Join(items, ",")
		default:
			return nil, &LineError{Path: path, Line: v.Line, Msg: fmt.Sprintf("option %q needs a plain value", k.Value)}
		}
	}
	return fc, nil
}
