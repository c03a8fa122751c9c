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

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

// defaultPort is the base port when no flag, env file or shell sets one.
const defaultPort = 5000

// appFlags are the flags every command that reads the app shares.
func appFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "procfile", Aliases: []string{"f"}, Usage: "the Procfile `FILE` (default: Procfile in the app root)"},
		&cli.StringFlag{Name: "root", Aliases: []string{"d"}, Usage: "the app root `DIR` (default: the Procfile's directory)"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "env `FILE`s, repeatable or comma-separated; later ones win (default: .env when present)"},
		&cli.StringFlag{Name: "port", Aliases: []string{"p"}, Usage: "base `PORT` (default: PORT from the env files, else the shell, else 5000)"},
	}
}

// formationFlags select and scale process types.
func formationFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "formation", Aliases: []string{"m", "concurrency", "c"}, Usage: "how many of each type, as `SPEC` web=2,worker=1; all=N sets the rest"},
		&cli.StringFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "grace `SECONDS` between SIGTERM and SIGKILL (default 5)"},
	}
}

// project is the app as a command sees it: root, Procfile, environment.
type project struct {
	set          *settings
	root         string // absolute
	procfilePath string // as the user named it, for messages
	pf           *procfile.Procfile
	env          *env.Env // shell overlaid by the env files
	envFiles     []string
	port         int
	timeout      time.Duration
	slug         *buildpack.Slug // set by useSlug: processes run from it
	slugDefaults []string        // the default process types useSlug added to pf
}

// loadSettings finds the .foreman file and returns the option resolver.
func loadSettings(c *cli.Context, st *streams) (*settings, error) {
	dir := "."
	if c.IsSet("root") {
		dir = c.String("root")
	} else if v := st.getenv("GANGER_ROOT"); v != "" {
		dir = v
	}
	fc, err := loadFileConfig(dir)
	if err != nil {
		return nil, err
	}
	return &settings{c: c, st: st, file: fc}, nil
}

// locate resolves the app root and the Procfile path without reading them.
func (s *settings) locate() (root, pfPath string, err error) {
	pfPath, pfSet := s.lookup("procfile")
	root, rootSet := s.lookup("root")
	switch {
	case rootSet && pfSet:
	case rootSet:
		pfPath = filepath.Join(root, "Procfile")
	case pfSet:
		root = filepath.Dir(pfPath)
	default:
		root, pfPath = ".", "Procfile"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", "", fmt.Errorf("app root %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", "", &usageError{err: fmt.Errorf("app root %s is not a directory", root), hint: "use -d to name the app's directory"}
	}
	return abs, pfPath, nil
}

// loadProject reads the Procfile and the env files.
func loadProject(c *cli.Context, st *streams) (*project, error) {
	return loadProjectOpt(c, st, false)
}

// loadProjectOpt is loadProject; with optionalProcfile a missing default
// Procfile leaves an empty one ("ganger run" needs only the environment).
func loadProjectOpt(c *cli.Context, st *streams, optionalProcfile bool) (*project, error) {
	set, err := loadSettings(c, st)
	if err != nil {
		return nil, err
	}
	return readProject(set, optionalProcfile)
}

// readProject reads the app set points at: its Procfile, env files, base
// port and timeout. start --watch calls it again when they change.
func readProject(set *settings, optionalProcfile bool) (*project, error) {
	var err error
	p := &project{set: set}
	if p.root, p.procfilePath, err = set.locate(); err != nil {
		return nil, err
	}
	if p.pf, err = procfile.ReadFile(p.procfilePath); err != nil {
		_, named := set.lookup("procfile")
		if optionalProcfile && !named && errors.Is(err, fs.ErrNotExist) {
			p.pf = &procfile.Procfile{Path: p.procfilePath}
		} else {
			return nil, err
		}
	}
	if err := p.loadEnv(); err != nil {
		return nil, err
	}
	return p, p.loadPortAndTimeout()
}

// loadEnv overlays the env files on the inherited environment.
func (p *project) loadEnv() error {
	p.envFiles = p.set.list("env")
	if len(p.envFiles) == 0 {
		def := filepath.Join(p.root, ".env")
		if _, err := os.Stat(def); err == nil {
			p.envFiles = []string{relPath(def)}
		}
	}
	return p.readEnv(env.FromEnviron(p.set.st.environ))
}

// readEnv sets p.env to base overlaid by the env files.
func (p *project) readEnv(base *env.Env) error {
	var err error
	p.env, err = env.Load(base, p.envFiles...)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &usageError{err: err, hint: "check the -e/--env file names"}
		}
		return err
	}
	return nil
}

// loadPortAndTimeout resolves the base port (flag, then PORT from the env
// files, then the shell's PORT, then 5000) and the grace period.
func (p *project) loadPortAndTimeout() error {
	p.port = defaultPort
	if v, ok := p.set.lookup("port"); ok {
		port, err := parsePort(v, "--port")
		if err != nil {
			return err
		}
		p.port = port
	} else if v, ok := p.env.Lookup("PORT"); ok && v.Value != "" {
		port, err := parsePort(v.Value, "PORT from "+v.Source)
		if err != nil {
			return err
		}
		p.port = port
	}
	p.timeout = 5 * time.Second
	if v, ok := p.set.lookup("timeout"); ok {
		d, err := parseTimeout(v)
		if err != nil {
			return err
		}
		p.timeout = d
	}
	return nil
}

// relPath shows path relative to the working directory when it is below it.
func relPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// selection parses heroku local's positional "web=2,worker" and foreman's
// "start web" into the types named and a formation, merged over -m.
func (p *project) selection(args []string) ([]string, procfile.Formation, error) {
	var f procfile.Formation
	if spec, ok := p.set.lookup("formation"); ok {
		var err error
		if f, err = procfile.ParseFormation(spec); err != nil {
			return nil, nil, &usageError{err: fmt.Errorf("--formation: %w", err)}
		}
	}
	var types []string
	for _, a := range args {
		pos, err := procfile.ParseFormation(a)
		if err != nil {
			return nil, nil, &usageError{err: err, hint: "name process types, optionally with counts: ganger start web=2,worker"}
		}
		for _, item := range strings.Split(a, ",") {
			name, count, hasCount := strings.Cut(strings.TrimSpace(item), "=")
			if name == "" {
				continue
			}
			types = append(types, name)
			if hasCount {
				if f == nil {
					f = procfile.Formation{}
				}
				f[name] = pos[name]
				_ = count
			}
		}
	}
	return types, f, nil
}

// instanceEnv is the environment of one instance: the project's, plus what
// ganger sets (instanceVars).
func (p *project) instanceEnv(name string, port int) (*env.Env, error) {
	e := p.env.Clone()
	for _, v := range p.instanceVars(name, port) {
		e.Set(v.Key, v.Value, v.Source)
	}
	if err := e.CheckExec(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return e, nil
}

// instanceVars are what ganger sets for one instance: PORT, PS and DYNO, and
// HOME (the slug) when running from one.
func (p *project) instanceVars(name string, port int) []env.Var {
	vars := []env.Var{
		{Key: "PORT", Value: strconv.Itoa(port), Source: env.SourceGanger},
		{Key: "PS", Value: name, Source: env.SourceGanger},
		{Key: "DYNO", Value: name, Source: env.SourceGanger},
	}
	if p.slug != nil {
		vars = append(vars, env.Var{Key: "HOME", Value: p.slug.Dir, Source: env.SourceGanger})
	}
	return vars
}
