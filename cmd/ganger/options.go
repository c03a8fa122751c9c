package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/procfile"
)

// Every flag can also come from GANGER_<FLAG> (upper case, '-' as '_') and
// from a .foreman file at the app root (foreman's YAML of long option names).
// The command line wins over the environment, which wins over the file.
// settings resolves them once per command; the rest of ganger sees typed
// options only.

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
		&cli.StringFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "grace period between SIGTERM and SIGKILL, `TIME` in seconds or with a unit (default 5)"},
	}
}

// settings resolves one command's options from the flag, the environment and
// the .foreman file, in that order.
type settings struct {
	c    *cli.Context
	st   *streams
	root string // the app root found, absolute; .foreman's relative paths are below it
	file *config.Foreman
}

// loadSettings finds the app (see app.Find: -d, -f and GANGER_ROOT,
// GANGER_PROCFILE, else the nearest directory up with what need asks for),
// reads its .foreman file and returns the option resolver.
func loadSettings(c *cli.Context, st *streams, need app.Need) (*settings, error) {
	s := &settings{c: c, st: st}
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("the working directory: %w", err)
	}
	if s.root, err = app.Find(s.str("root", ""), s.str("procfile", ""), wd, need); err != nil {
		return nil, err
	}
	fc, err := config.ReadForeman(app.RelPath(s.root), knownOptions(c.App))
	if err != nil {
		return nil, err
	}
	s.file = fc
	return s, nil
}

// perInvocation are the flags only the command line sets: what to do this
// once (--force, --json, ...), never a default for the app.
var perInvocation = []string{"help", "force", "json", "reveal", "shell", "boot", "test", "commit"}

// knownOptions are the long names of every flag of every command but
// perInvocation: what a .foreman file may set.
func knownOptions(a *cli.App) []string {
	var out []string
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, cmd := range cmds {
			for _, f := range cmd.Flags {
				if n := f.Names()[0]; !slices.Contains(out, n) && !slices.Contains(perInvocation, n) {
					out = append(out, n)
				}
			}
			walk(cmd.Subcommands)
		}
	}
	walk(a.Commands)
	return out
}

// lookup returns the value of the long option name and whether any source
// set it.
func (s *settings) lookup(name string) (string, bool) {
	v, _, ok := s.lookupFrom(name)
	return v, ok
}

// lookupFrom is lookup, also saying whether the value came from .foreman.
func (s *settings) lookupFrom(name string) (value string, fromFile, ok bool) {
	if s.c.IsSet(name) {
		switch v := s.c.Value(name).(type) {
		case cli.StringSlice:
			return strings.Join(v.Value(), ","), false, true
		case *cli.StringSlice:
			return strings.Join(v.Value(), ","), false, true
		default:
			return fmt.Sprint(s.c.Value(name)), false, true
		}
	}
	if v := s.st.getenv("GANGER_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
		return v, false, true
	}
	if s.file != nil {
		if v, ok := s.file.Values[name]; ok {
			return v, true, true
		}
	}
	return "", false, false
}

// path reads an option naming a file or directory: as given on the command
// line or in GANGER_*, relative to the working directory; from .foreman,
// relative to the app root, where the file is.
func (s *settings) path(name string) string {
	v, fromFile, ok := s.lookupFrom(name)
	if !ok || v == "" {
		return ""
	}
	if fromFile && !filepath.IsAbs(v) {
		return filepath.Join(s.root, v)
	}
	return v
}

// outputPath is path for an option naming where ganger writes (--tarball,
// --buildpack-cache). A .foreman file comes with the repository, so it may
// only name a place inside the app: a cloned repository must not make
// ganger overwrite a file elsewhere.
func (s *settings) outputPath(name string) (string, error) {
	p := s.path(name)
	if _, fromFile, _ := s.lookupFrom(name); !fromFile || p == "" {
		return p, nil
	}
	if rel, err := filepath.Rel(s.root, filepath.Clean(p)); err != nil || !filepath.IsLocal(rel) {
		return "", &app.UsageError{
			Err:  fmt.Errorf("%s:%d: %s names %s, outside the app", s.file.Path, s.file.Lines[name], name, p),
			Hint: fmt.Sprintf(".foreman comes with the repository, so it may only name places inside the app; to write elsewhere, say so on the command line: --%s %s", name, p),
		}
	}
	return p, nil
}

// paths is path for a comma-separated or repeated option.
func (s *settings) paths(name string) []string {
	_, fromFile, _ := s.lookupFrom(name)
	list := s.list(name)
	if fromFile {
		for i, v := range list {
			if !filepath.IsAbs(v) {
				list[i] = filepath.Join(s.root, v)
			}
		}
	}
	return list
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
		return false, &app.UsageError{Err: fmt.Errorf("--%s: %q is not true or false", name, v)}
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
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// duration reads a duration option with config.ParseDuration's rule (a
// bare number is seconds), def when unset. positive refuses 0.
func (s *settings) duration(name string, def time.Duration, positive bool) (time.Duration, error) {
	v, ok := s.lookup(name)
	if !ok {
		return def, nil
	}
	d, err := config.ParseDuration(v)
	if err == nil && positive && d == 0 {
		err = fmt.Errorf("%q is not more than 0", v)
	}
	if err != nil {
		return 0, &app.UsageError{Err: fmt.Errorf("--%s: %w", name, err), Hint: "durations are seconds (5, 0.5) or have a unit (500ms, 2s, 1m)"}
	}
	return d, nil
}

// appOptions resolves the options every command that reads the app shares:
// -f, -d, -e, -p, -t and -m (the last two where the command has them).
func (s *settings) appOptions() (app.Options, error) {
	o := app.Options{
		Root:     s.path("root"),
		Procfile: s.path("procfile"),
		EnvFiles: s.paths("env"),
		Environ:  s.st.environ,
	}
	if o.Root == "" && o.Procfile == "" {
		o.Root = s.root
	}
	if v, ok := s.lookup("port"); ok {
		p, err := app.ParsePort(v, "--port")
		if err != nil {
			return o, err
		}
		o.Port = p
	}
	var err error
	if o.Timeout, err = s.duration("timeout", app.DefaultTimeout, false); err != nil {
		return o, err
	}
	if spec, ok := s.lookup("formation"); ok {
		if o.Formation, err = procfile.ParseFormation(spec); err != nil {
			return o, &app.UsageError{Err: fmt.Errorf("--formation: %w", err)}
		}
	}
	return o, nil
}

// loadOptions is loadSettings and appOptions.
func loadOptions(c *cli.Context, st *streams, need app.Need) (*settings, app.Options, error) {
	s, err := loadSettings(c, st, need)
	if err != nil {
		return nil, app.Options{}, err
	}
	o, err := s.appOptions()
	return s, o, err
}

// workDir is the working directory, for -b paths typed on the command line.
func workDir() (string, error) { return os.Getwd() }

// slugNeed reads --slug (the flag or GANGER_SLUG: it decides where the app
// is, so it is read before .foreman) and what the command then needs of the
// app's directory.
func slugNeed(c *cli.Context, st *streams, without app.Need) (bool, app.Need, error) {
	slug, err := (&settings{c: c, st: st}).bool("slug")
	if err != nil || !slug {
		return false, without, err
	}
	return true, app.NeedSlug, nil
}
