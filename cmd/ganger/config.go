package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"
)

// Every flag can also come from GANGER_<FLAG> (upper case, '-' as '_') and
// from a .foreman file at the app root (foreman's YAML of long option names).
// The command line wins over the environment, which wins over the file.

// foremanFile is the defaults file foreman users already have.
const foremanFile = ".foreman"

// fileConfig is a parsed .foreman file: long option name -> value.
type fileConfig struct {
	path   string
	values map[string]string
}

// knownFileKeys are the options a .foreman file may set.
var knownFileKeys = map[string]bool{
	"procfile": true, "root": true, "env": true, "formation": true, "concurrency": true,
	"port": true, "timeout": true, "color": true, "no-color": true, "no-timestamp": true,
	"timestamp": true, "no-prefix": true, "app": true, "user": true, "log": true,
	"shell": true, "image": true, "template": true, "tty": true, "no-port-check": true,
	"watch": true, "watch-ignore": true, "debounce": true, "auto-restart": true, "can-die": true,
	"no-release": true, "buildpack": true, "refresh": true, "registry": true, "detect": true,
	"stack": true, "buildpack-cache": true, "tarball": true,
}

// loadFileConfig reads dir/.foreman when it exists.
func loadFileConfig(dir string) (*fileConfig, error) {
	path := filepath.Join(dir, foremanFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &fileConfig{values: map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	fc := &fileConfig{path: path, values: map[string]string{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w; hint: it holds YAML such as \"port: 5000\"", path, err)
	}
	if len(doc.Content) == 0 {
		return fc, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: expected option names and values, such as \"port: 5000\"", path, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := strings.ReplaceAll(k.Value, "_", "-")
		if !knownFileKeys[key] {
			return nil, fmt.Errorf("%s:%d: unknown option %q; hint: known options are procfile, root, env, formation, port, timeout, color, no-timestamp, no-prefix", path, k.Line, k.Value)
		}
		switch v.Kind {
		case yaml.ScalarNode:
			fc.values[key] = v.Value
		case yaml.SequenceNode:
			var items []string
			for _, it := range v.Content {
				items = append(items, it.Value)
			}
			fc.values[key] = strings.Join(items, ",")
		default:
			return nil, fmt.Errorf("%s:%d: option %q needs a plain value", path, v.Line, k.Value)
		}
	}
	return fc, nil
}

// settings resolves one command's options from the flag, the environment and
// the .foreman file, in that order.
type settings struct {
	c    *cli.Context
	st   *streams
	file *fileConfig
}

// lookup returns the value of the long option name and whether any source
// set it.
func (s *settings) lookup(name string) (string, bool) {
	if s.c.IsSet(name) {
		switch v := s.c.Value(name).(type) {
		case cli.StringSlice:
			return strings.Join(v.Value(), ","), true
		case *cli.StringSlice:
			return strings.Join(v.Value(), ","), true
		default:
			return fmt.Sprint(s.c.Value(name)), true
		}
	}
	if v := s.st.getenv("GANGER_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
		return v, true
	}
	if s.file != nil {
		if v, ok := s.file.values[name]; ok {
			return v, true
		}
	}
	return "", false
}

func (s *settings) str(name, def string) string {
	if v, ok := s.lookup(name); ok {
		return v
	}
	return def
}

func (s *settings) bool(name string) (bool, error) {
	v, ok := s.lookup(name)
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &usageError{err: fmt.Errorf("--%s: %q is not true or false", name, v)}
	}
	return b, nil
}

// list returns a comma-separated or repeated option as a list.
func (s *settings) list(name string) []string {
	v, ok := s.lookup(name)
	if !ok {
		return nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseTimeout reads foreman's -t: whole or fractional seconds, or a Go
// duration ("500ms").
func parseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, &usageError{err: fmt.Errorf("--timeout %q: want seconds, such as 5 or 0.5", s)}
}

// parsePort reads a port number.
func parsePort(s, from string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 1 || p > 65535 {
		return 0, &usageError{err: fmt.Errorf("%s: port %q is not a number from 1 to 65535", from, s)}
	}
	return p, nil
}
