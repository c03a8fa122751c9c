package export

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

// App is what gets exported: the formation and the config of one app.
type App struct {
	Name    string        // names units, programs and objects; [A-Za-z0-9][A-Za-z0-9_.-]*
	Root    string        // absolute working directory of every process (host formats)
	User    string        // system user to run as (host formats; ignored by --user units)
	LogDir  string        // absolute directory for log files (host formats); "" keeps the engine's default
	Timeout time.Duration // stop timeout before SIGKILL; <= 0 means DefaultTimeout
	Image   string        // container image (compose, kubernetes; required there)
	WorkDir string        // working directory inside the image; "" means DefaultWorkDir
	Types   []Type        // in Procfile order
	Config  []env.Var     // the env-file variables only, never the inherited shell environment
}

// Type is one Procfile entry and its instances.
type Type struct {
	Name    string
	Command string // an opaque shell command line, run as /bin/sh -c COMMAND (bash -c in images)
	// Instances in instance order; none when the type is scaled to 0.
	Instances []procfile.Instance
	// Port is the PORT of the type's first instance. It is only needed for a
	// type scaled to 0 in the replica formats (compose, kubernetes); when 0,
	// Instances[0].Port is used.
	Port int
}

// Options change how Write writes.
type Options struct {
	Force     bool   // overwrite or remove files ganger did not write, or that were edited since
	Split     bool   // kubernetes: one file per object instead of one multi-document file
	UserUnits bool   // systemd: units for the user manager (systemctl --user)
	Template  string // directory of templates overriding the built-in ones by file name
}

// Result says what Write did. Paths are relative to Dir, slash-separated.
type Result struct {
	Dir     string   // the export directory, absolute
	Written []string // every file written, sorted
	Removed []string // files of an earlier export of the same app and format that are no longer produced
	Notes   []string // things the user should know, one sentence each
}

// DefaultTimeout is the stop timeout used when App.Timeout is not positive.
const DefaultTimeout = 5 * time.Second

// DefaultWorkDir is where the platform puts the app inside an image.
const DefaultWorkDir = "/app"

// reserved are set per instance by every format; an env file's value for
// them is dropped, as "ganger start" lets its own values win.
var reserved = []string{"PORT", "PS", "DYNO"}

// The patterns compile on first use: every start of ganger would pay for
// them otherwise.
var (
	appNameRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`) })
	typeNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]+$`) })
	userRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`) })
	envKeyRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })
)

// prepare validates app for format and returns the normalised copy the
// templates see: Config de-duplicated (a later entry wins), without the
// reserved keys; Timeout and WorkDir defaulted.
func prepare(f format, app App) (App, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(app.Name) > 100 || !appNameRE().MatchString(app.Name) {
		bad("app name %q is not usable in unit and file names: use letters, digits, '_', '.' and '-' (at most 100), starting with a letter or digit; set it with --app NAME", app.Name)
	}
	if f.host {
		if !filepath.IsAbs(app.Root) {
			bad("app root %q is not an absolute path", app.Root)
		} else if err := plainText("app root", app.Root); err != nil {
			errs = append(errs, err)
		}
		if app.LogDir != "" {
			if !filepath.IsAbs(app.LogDir) {
				bad("log directory %q is not an absolute path; pass an absolute --log DIR", app.LogDir)
			} else if err := plainText("log directory", app.LogDir); err != nil {
				errs = append(errs, err)
			}
		}
		if app.User != "" && !userRE().MatchString(app.User) {
			bad("user %q is not a valid user name", app.User)
		}
	} else {
		if app.Image == "" {
			bad("%s needs a container image: pass --image REF", f.name)
		} else if err := plainText("image", app.Image); err != nil {
			errs = append(errs, err)
		}
		if app.WorkDir == "" {
			app.WorkDir = DefaultWorkDir
		} else if !strings.HasPrefix(app.WorkDir, "/") {
			bad("work directory %q is not an absolute path", app.WorkDir)
		} else if err := plainText("work directory", app.WorkDir); err != nil {
			errs = append(errs, err)
		}
	}
	if app.Timeout <= 0 {
		app.Timeout = DefaultTimeout
	}

	if len(app.Types) == 0 {
		bad("nothing to export: the app has no process types")
	}
	seen := map[string]bool{}
	types := make([]Type, 0, len(app.Types))
	for _, t := range app.Types {
		if !typeNameRE().MatchString(t.Name) {
			bad("process type %q: names may only hold letters, digits, '_' and '-'", t.Name)
			continue
		}
		if seen[t.Name] {
			bad("process type %q appears twice", t.Name)
			continue
		}
		seen[t.Name] = true
		if strings.TrimSpace(t.Command) == "" {
			bad("process type %q has no command", t.Name)
		} else if err := plainText("command of "+t.Name, t.Command); err != nil {
			errs = append(errs, err)
		}
		nums := map[int]bool{}
		for _, in := range t.Instances {
			switch {
			case in.Type != "" && in.Type != t.Name:
				bad("process type %q holds an instance of %q", t.Name, in.Type)
			case in.Num < 1 || nums[in.Num]:
				bad("process type %q: instance number %d is not positive or appears twice", t.Name, in.Num)
			case in.Port < 0 || in.Port > 65535:
				bad("%s.%d: port %d is out of range", t.Name, in.Num, in.Port)
			}
			nums[in.Num] = true
		}
		if t.Port < 0 || t.Port > 65535 {
			bad("process type %q: port %d is out of range", t.Name, t.Port)
		}
		t.Instances = slices.Clone(t.Instances)
		for i := range t.Instances {
			t.Instances[i].Type = t.Name
			t.Instances[i].Name = fmt.Sprintf("%s.%d", t.Name, t.Instances[i].Num)
			t.Instances[i].Command = t.Command
		}
		types = append(types, t)
	}
	app.Types = types

	// Config: a later entry wins, in the position of the first.
	pos := map[string]int{}
	var config []env.Var
	for _, v := range app.Config {
		if !envKeyRE().MatchString(v.Key) {
			bad("config key %q is not a valid variable name", v.Key)
			continue
		}
		if !utf8.ValidString(v.Value) || strings.ContainsRune(v.Value, 0) {
			bad("config key %s: the value holds invalid UTF-8 or a NUL byte, which no engine can pass on", v.Key)
			continue
		}
		if slices.Contains(reserved, v.Key) {
			continue
		}
		if i, ok := pos[v.Key]; ok {
			config[i] = v
			continue
		}
		pos[v.Key] = len(config)
		config = append(config, v)
	}
	app.Config = config
	return app, errors.Join(errs...)
}

// plainText rejects what no unit or config file can hold on one line:
// invalid UTF-8 and control characters other than tab.
func plainText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s holds invalid UTF-8", what)
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			return fmt.Errorf("%s holds the control character %U; only one line of printable text can be exported", what, r)
		}
	}
	return nil
}

// typePort is the PORT every replica of t gets in the replica formats.
func typePort(t Type) int {
	if t.Port != 0 {
		return t.Port
	}
	if len(t.Instances) > 0 {
		return t.Instances[0].Port
	}
	return 0
}

// timeoutSeconds rounds d up to whole seconds, at least 1.
func timeoutSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
