package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Finding the app: every command does it the same way, as git finds its
// repository. -d names the root; -f names the Procfile, whose directory is
// the root; else the root is the nearest of the working directory and its
// parents that holds a Procfile. Commands that can run without a Procfile
// (run, env, build, test) also take the nearest directory holding a .env,
// and commands that run from the slug one holding .ganger/slug; build and
// test, which work on any source tree, fall back to the working directory.

// Need says what a command needs of the directory it takes as the app.
type Need int

const (
	NeedProcfile Need = iota // a Procfile (start, check, export, ps, restart, stop)
	NeedApp                  // a Procfile or a .env (run, env)
	NeedSlug                 // a Procfile or a slug (start --slug, run --slug, export --slug)
	NeedSource               // anything: the working directory will do (build, test, hook)
)

// Find returns the app root, absolute and clean: root when given, else the
// directory of procfile when given, else the nearest directory from wd up
// that holds what need asks for.
func Find(root, procfile, wd string, need Need) (string, error) {
	switch {
	case root != "":
		return filepath.Abs(root)
	case procfile != "":
		return filepath.Abs(filepath.Dir(procfile))
	}
	start, err := filepath.Abs(wd)
	if err != nil {
		return "", err
	}
	type marker struct {
		name string
		dir  bool // a directory, else a file
	}
	markers := []marker{{"Procfile", false}}
	switch need {
	case NeedApp:
		markers = append(markers, marker{".env", false})
	case NeedSlug:
		markers = append(markers, marker{filepath.Join(".ganger", "slug"), true})
	}
	for dir := start; ; {
		for _, m := range markers {
			fi, err := os.Stat(filepath.Join(dir, m.name))
			if err == nil && fi.IsDir() == m.dir {
				return dir, nil
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.ENOTDIR) {
				return "", fmt.Errorf("looking for the app: %w", err)
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if need == NeedSource {
		return start, nil
	}
	what := "a Procfile"
	switch need {
	case NeedApp:
		what = "a Procfile or a .env"
	case NeedSlug:
		what = "a Procfile or a slug (.ganger/slug)"
	}
	return "", &UsageError{
		Err:  fmt.Errorf("no app found: no directory from %s up holds %s", RelPath(start), what),
		Hint: "run ganger in the app's directory (or below it), or name the app with -d DIR or -f FILE",
	}
}
