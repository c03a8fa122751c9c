package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

// DefaultPort is the base port when no option, env file or shell sets one.
const DefaultPort = 5000

// DefaultTimeout is the grace period between the stop signal and SIGKILL.
const DefaultTimeout = 5 * time.Second

// Options say where the app is and how to read it: what the command line,
// GANGER_* variables and .foreman resolved to. The zero value of each field
// means "not given".
type Options struct {
	Root      string             // -d: the app root; "" means the Procfile's directory, else "."
	Procfile  string             // -f: the Procfile; "" means Procfile in the root
	EnvFiles  []string           // -e: env files, later ones win; nil means .env when present
	Port      int                // -p: the base port; 0 means PORT from the env files, else the shell's, else DefaultPort
	Timeout   time.Duration      // -t: the grace period; set it to DefaultTimeout when not given
	Formation procfile.Formation // -m: how many of each type; nil means one each
	Environ   []string           // the environment ganger runs in, "KEY=VALUE"

	// ProcfileOptional lets a missing default Procfile read as an empty
	// one (run, build and env need only the environment). A Procfile named
	// with -f must exist.
	ProcfileOptional bool
	// Slug loads the slug of "ganger build" and runs the app from it.
	Slug bool
	// SlugDir is where that slug is, relative to the root; "" means
	// buildpack.SlugDir (check --boot builds into its own).
	SlugDir string
	// Command names the command in messages: "start --slug".
	Command string
}

// App is one app, loaded: what the platform would run and with what.
type App struct {
	Root         string             // absolute
	ProcfilePath string             // as named, for messages
	Procfile     *procfile.Procfile // the slug's, completed by default types, when from a slug
	Env          *env.Env           // the inherited environment overlaid by the env files
	EnvFiles     []string           // as named, in order
	Port         int                // the base port
	Slug         *buildpack.Slug    // processes run from it when set
	// ProcfileErr is why the Procfile could not be read when Options said
	// it was optional: Procfile is then empty, and the caller warns.
	ProcfileErr error

	opts         Options
	slugDefaults []string // the default process types the slug added to Procfile
}

// Timeout is the grace period between the stop signal and SIGKILL.
func (a *App) Timeout() time.Duration { return a.opts.Timeout }

// Locate resolves the app root (absolute) and the Procfile path without
// reading either. Every command that finds an app goes through it, so it
// also removes what killed builds left in the root's .ganger (their
// ENV_DIR holds the app's config: see buildpack.RemoveStale).
func Locate(o Options) (root, pfPath string, err error) {
	root, pfPath = o.Root, o.Procfile
	switch {
	case root != "" && pfPath != "":
	case root != "":
		pfPath = RelPath(filepath.Join(root, "Procfile"))
	case pfPath != "":
		root = filepath.Dir(pfPath)
	default:
		root, pfPath = ".", "Procfile"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", "", fmt.Errorf("app root %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", "", usagef("use -d to name the app's directory", "app root %s is not a directory", root)
	}
	// Best effort: what is left is tried again by the next command, and
	// by the next build under its lock.
	buildpack.RemoveStale(abs)
	return abs, pfPath, nil
}

// Load reads the app o points at: its Procfile, env files and base port,
// and with o.Slug the slug. start --watch calls it again when they change.
func Load(o Options) (*App, error) {
	var err error
	a := &App{opts: o}
	if a.Root, a.ProcfilePath, err = Locate(o); err != nil {
		return nil, err
	}
	if a.Procfile, err = procfile.ReadFile(a.ProcfilePath); err != nil {
		switch {
		case (o.ProcfileOptional || o.Slug) && o.Procfile == "" && errors.Is(err, fs.ErrNotExist):
			a.Procfile = &procfile.Procfile{Path: a.ProcfilePath}
		case o.ProcfileOptional && !errors.Is(err, fs.ErrNotExist):
			// A one-off or a build that does not use the Procfile still
			// runs; the caller warns with ProcfileErr.
			a.Procfile, a.ProcfileErr = &procfile.Procfile{Path: a.ProcfilePath}, err
		default:
			return nil, err
		}
	}
	a.EnvFiles = EnvFiles(o, a.Root)
	base := env.FromEnviron(o.Environ)
	if o.Slug {
		if err := a.useSlug(base); err != nil {
			return nil, err
		}
	}
	if a.Env, err = readEnv(base, a.EnvFiles); err != nil {
		return nil, err
	}
	if a.Port, err = basePort(o.Port, a.Env); err != nil {
		return nil, err
	}
	return a, nil
}

// EnvFiles are the env files o names, or .env in root when it names none
// and there is one.
func EnvFiles(o Options, root string) []string {
	if len(o.EnvFiles) > 0 {
		return o.EnvFiles
	}
	def := filepath.Join(root, ".env")
	if _, err := os.Stat(def); err == nil {
		return []string{RelPath(def)}
	}
	return nil
}

// readEnv is base overlaid by the env files.
func readEnv(base *env.Env, files []string) (*env.Env, error) {
	e, err := env.Load(base, files...)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &UsageError{Err: err, Hint: "check the -e/--env file names"}
		}
		return nil, err
	}
	return e, nil
}

// basePort is the option, else PORT from the env files or the shell, else
// DefaultPort.
func basePort(opt int, e *env.Env) (int, error) {
	if opt != 0 {
		return opt, nil
	}
	if v, ok := e.Lookup("PORT"); ok && v.Value != "" {
		return ParsePort(v.Value, "PORT from "+v.Source)
	}
	return DefaultPort, nil
}

// ParsePort reads a port number; from says where it came from.
func ParsePort(s, from string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 1 || p > 65535 {
		return 0, &UsageError{Err: fmt.Errorf("%s: port %q is not a number from 1 to 65535", from, s)}
	}
	return p, nil
}

// RelPath shows path relative to the working directory when it is below it.
func RelPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// EnvFileVars is the part of e that came from env files (or a slug's
// release): neither the shell ganger runs in nor ganger's own PORT, PS and
// DYNO.
func EnvFileVars(e *env.Env) []env.Var {
	var out []env.Var
	for _, v := range e.Vars() {
		if v.Source == env.SourceShell || v.Source == env.SourceGanger {
			continue
		}
		out = append(out, v)
	}
	return out
}
