package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gangerdev/ganger/buildpack"
)

// Build are the options of build, test and check --boot that choose and
// fetch the buildpacks.
type Build struct {
	Buildpacks []string // -b, in order
	// WorkDir is where relative -b paths typed on the command line are
	// resolved; "" resolves them in the app root (.foreman, GANGER_BUILDPACK).
	WorkDir  string
	Registry string    // the template namespace/name expands to; "" for the default
	Detect   *[]string // the buildpacks detection tries; nil for the default
	Refresh  bool
	Stack    string
	CacheDir string // "" for defaultBuildpackCache
	Tarball  string // build only: also write the slug as this tarball
	Commit   string // build exactly this commit's tree (the pre-push hook's), not the working tree
	Out      io.Writer
}

// BuildOptions resolves the buildpacks, the config and the fetch settings
// of a build of a, and says on b.Out which buildpacks it will use. what
// names the command in errors.
func (a *App) BuildOptions(b Build, what string) (buildpack.BuildOptions, error) {
	config := EnvFileVars(a.Env)
	configMap := make(map[string]string, len(config))
	for _, v := range config {
		configMap[v.Key] = v.Value
	}
	sel := buildpack.SelectOptions{AppDir: a.Root, Flags: b.Buildpacks, Config: configMap, Registry: b.Registry, WorkDir: b.WorkDir}
	if b.Detect != nil {
		sel.Detect = append([]string{}, (*b.Detect)...)
	}
	selection, err := buildpack.Select(sel)
	if err != nil {
		err = fmt.Errorf("%s: choosing the buildpacks: %w", what, err)
		if b.WorkDir != "" {
			return buildpack.BuildOptions{}, &UsageError{Err: err, Hint: "example: ganger " + what + " -b ./buildpacks/go"}
		}
		return buildpack.BuildOptions{}, err
	}
	refs := make([]string, len(selection.Refs))
	for i, r := range selection.Refs {
		refs[i] = r.Raw
	}
	out := b.Out
	if out == nil {
		out = io.Discard
	}
	if selection.Detect {
		fmt.Fprintf(out, "-----> Detecting the buildpack among: %s\n", strings.Join(refs, ", "))
	} else {
		fmt.Fprintf(out, "-----> Buildpacks (from %s): %s\n", selection.Source, strings.Join(refs, ", "))
	}
	cache := b.CacheDir
	if cache == "" {
		cache = defaultBuildpackCache(a.opts.Environ)
	}
	return buildpack.BuildOptions{
		AppDir:     RelPath(a.Root),
		Buildpacks: selection.Refs,
		Detect:     selection.Detect,
		Config:     config,
		Environ:    a.opts.Environ,
		Fetch:      buildpack.FetchOptions{CacheDir: cache, Refresh: b.Refresh, Environ: a.opts.Environ},
		Stack:      b.Stack,
		Tarball:    b.Tarball,
		Commit:     b.Commit,
		Out:        out,
	}, nil
}

// defaultBuildpackCache is where fetched buildpacks are kept: ganger/buildpacks
// in the user cache dir (as os.UserCacheDir finds it, from environ), or ""
// (the app's .ganger/buildpacks) when there is none.
func defaultBuildpackCache(environ []string) string {
	getenv := func(key string) string { return lookupEnv(environ, key) }
	dir := getenv("XDG_CACHE_HOME")
	if !filepath.IsAbs(dir) || runtime.GOOS == "darwin" {
		home := getenv("HOME")
		if !filepath.IsAbs(home) {
			return ""
		}
		dir = filepath.Join(home, ".cache")
		if runtime.GOOS == "darwin" {
			dir = filepath.Join(home, "Library", "Caches")
		}
	}
	return filepath.Join(dir, "ganger", "buildpacks")
}

// lookupEnv is key's value in environ, the last one winning; "" if unset.
func lookupEnv(environ []string, key string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// BuildFailure words a failed build or test run of the app in root:
// buildpack's BuildError already names the buildpack, the phase and the log.
func BuildFailure(what, root string, err error) error {
	var be *buildpack.BuildError
	if errors.As(err, &be) && what == "build" {
		if _, serr := os.Stat(filepath.Join(root, buildpack.SlugDir)); serr == nil {
			return fmt.Errorf("%s: %w\nthe previous slug in %s is unchanged", what, err, RelPath(filepath.Join(root, buildpack.SlugDir)))
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}
