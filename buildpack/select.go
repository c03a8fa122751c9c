package buildpack

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Files read from the app's root.
const (
	BuildpacksFile = ".buildpacks"
	AppJSONFile    = "app.json"
)

// Where a Selection came from.
const (
	FromFlags        = "-b/--buildpack"
	FromBuildpackURL = "BUILDPACK_URL"
	FromFile         = BuildpacksFile
	FromAppJSON      = AppJSONFile
	FromDetect       = "detection"
)

// DefaultDetectOrder returns the buildpacks tried when nothing names one:
// herokuish's order of the officially supported languages, as registry
// shorthand. Detection over these needs the network once; configure a
// local list for offline use.
func DefaultDetectOrder() []string {
	return []string{
		"heroku/ruby", "heroku/nodejs", "heroku/clojure", "heroku/python", "heroku/java",
		"heroku/gradle", "heroku/scala", "heroku/php", "heroku/go",
	}
}

// SelectOptions say where to look for buildpack references.
type SelectOptions struct {
	AppDir string
	// Flags are the -b/--buildpack values in order; relative local paths
	// are resolved against WorkDir ("" means AppDir).
	Flags   []string
	WorkDir string
	// Config is the merged environment from the env files; BUILDPACK_URL
	// is read from it.
	Config map[string]string
	// Registry is the shorthand URL template ("" means DefaultRegistry).
	Registry string
	// Detect is the ordered list of candidates when nothing names a
	// buildpack; relative local paths are resolved against AppDir. nil
	// means DefaultDetectOrder(); an empty non-nil list disables detection.
	Detect []string
}

// Selection is the buildpacks to build with and why.
type Selection struct {
	Refs []Ref
	// Detect is true when Refs are candidates: the build uses the first
	// whose bin/detect passes.
	Detect bool
	// Source is one of FromFlags, FromBuildpackURL, FromFile, FromAppJSON,
	// FromDetect.
	Source string
}

// Select picks the buildpacks, first rule that applies: the -b flags (in
// order), BUILDPACK_URL from the env files, .buildpacks (one reference a
// line, "#" comments), app.json buildpacks[].url, else detection over
// opts.Detect. Every returned Ref is resolved (local paths absolute).
func Select(opts SelectOptions) (Selection, error) {
	appDir, err := filepath.Abs(opts.AppDir)
	if err != nil {
		return Selection{}, err
	}
	parse := func(items []string, base, where string) ([]Ref, error) {
		refs := make([]Ref, 0, len(items))
		for _, s := range items {
			r, err := ParseRef(s, opts.Registry)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			refs = append(refs, r.Resolve(base))
		}
		return refs, nil
	}
	if len(opts.Flags) > 0 {
		base := opts.WorkDir
		if base == "" {
			base = appDir
		}
		refs, err := parse(opts.Flags, base, FromFlags)
		return Selection{Refs: refs, Source: FromFlags}, err
	}
	if u := strings.TrimSpace(opts.Config["BUILDPACK_URL"]); u != "" {
		refs, err := parse([]string{u}, appDir, FromBuildpackURL)
		return Selection{Refs: refs, Source: FromBuildpackURL}, err
	}
	if f, err := os.Open(filepath.Join(appDir, BuildpacksFile)); err == nil {
		defer f.Close()
		refs, err := parseBuildpacksFile(f, BuildpacksFile, opts.Registry, appDir)
		if err != nil {
			return Selection{}, err
		}
		if len(refs) == 0 {
			return Selection{}, fmt.Errorf("%s names no buildpack; add one reference a line or remove the file", BuildpacksFile)
		}
		return Selection{Refs: refs, Source: FromFile}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return Selection{}, err
	}
	aj, err := readAppJSON(appDir)
	if err != nil {
		return Selection{}, err
	}
	if len(aj.Buildpacks) > 0 {
		var urls []string
		for i, b := range aj.Buildpacks {
			if strings.TrimSpace(b.URL) == "" {
				return Selection{}, fmt.Errorf("%s: buildpacks[%d] has no url", AppJSONFile, i)
			}
			urls = append(urls, b.URL)
		}
		refs, err := parse(urls, appDir, AppJSONFile)
		return Selection{Refs: refs, Source: FromAppJSON}, err
	}
	order := opts.Detect
	if order == nil {
		order = DefaultDetectOrder()
	}
	if len(order) == 0 {
		return Selection{}, errors.New("no buildpack configured: pass -b REF, set BUILDPACK_URL, add a .buildpacks file or list buildpacks in app.json")
	}
	refs, err := parse(order, appDir, "detection list")
	return Selection{Refs: refs, Detect: true, Source: FromDetect}, err
}

// parseBuildpacksFile reads .buildpacks: one reference a line; blank lines
// and lines starting with "#" are skipped, and "#" after a blank starts a
// comment (a "#" inside a reference is its git ref). Errors name NAME:LINE.
func parseBuildpacksFile(r io.Reader, name, registry, base string) ([]Ref, error) {
	var refs []Ref
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if line == 1 && len(fields) > 0 {
			fields[0] = strings.TrimPrefix(fields[0], "\uFEFF")
		}
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) > 1 && !strings.HasPrefix(fields[1], "#") {
			errs = append(errs, fmt.Errorf("%s:%d: expected one buildpack reference a line, got %d words", name, line, len(fields)))
			continue
		}
		ref, err := ParseRef(fields[0], registry)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			continue
		}
		refs = append(refs, ref.Resolve(base))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return refs, errors.Join(errs...)
}

// appJSON is the part of app.json this package reads.
type appJSON struct {
	Buildpacks []struct {
		URL string `json:"url"`
	} `json:"buildpacks"`
	Scripts map[string]json.RawMessage `json:"scripts"`
}

// readAppJSON reads dir/app.json; a missing file is an empty one.
func readAppJSON(dir string) (appJSON, error) {
	var aj appJSON
	data, err := os.ReadFile(filepath.Join(dir, AppJSONFile))
	if errors.Is(err, os.ErrNotExist) {
		return aj, nil
	}
	if err != nil {
		return aj, err
	}
	if err := json.Unmarshal(data, &aj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(string(data[:min(int(se.Offset), len(data))]), "\n")
			return aj, fmt.Errorf("%s:%d: %w", AppJSONFile, line, err)
		}
		return aj, fmt.Errorf("%s: %w", AppJSONFile, err)
	}
	return aj, nil
}

// script returns app.json scripts[name]: a string, or "" when absent.
func (aj appJSON) script(name string) (string, error) {
	raw, ok := aj.Scripts[name]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: scripts.%s must be a string", AppJSONFile, name)
	}
	return s, nil
}
