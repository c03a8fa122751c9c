package buildpack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Slug is a built app: the directory processes run from (cwd and HOME) and
// what the build recorded about it.
type Slug struct {
	Dir      string // absolute path of the slug dir
	Procfile string // Dir/Procfile; "" when the slug has none
	Meta     Metadata
}

// LoadSlugAt reads the slug of the app in appDir from slugDir (relative to
// appDir: SlugDir, or CheckSlugDir) and its SlugMetaFile.
func LoadSlugAt(appDir, slugDir string) (*Slug, error) {
	abs, err := filepath.Abs(appDir)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(abs, slugDir)
	data, err := os.ReadFile(filepath.Join(dir, SlugMetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no slug in %s; hint: run \"ganger build\" first", filepath.Join(appDir, slugDir))
	}
	if err != nil {
		return nil, err
	}
	s := &Slug{Dir: dir}
	if err := json.Unmarshal(data, &s.Meta); err != nil {
		return nil, fmt.Errorf("%s: %w; hint: run \"ganger build\" again", filepath.Join(appDir, slugDir, SlugMetaFile), err)
	}
	if p := filepath.Join(dir, "Procfile"); fileExists(p) {
		s.Procfile = p
	}
	return s, nil
}

// Defaults returns the release's default process types whose names are
// not in declared (the types of the slug's Procfile), in release order.
// With no Procfile, pass nil: every default type is returned. The runner
// appends them to the parsed Procfile.
func (s *Slug) Defaults(declared []string) []ProcessType {
	have := make(map[string]bool, len(declared))
	for _, n := range declared {
		have[n] = true
	}
	var out []ProcessType
	for _, p := range s.Meta.Release.DefaultProcessTypes {
		if !have[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

// ConfigVars returns the config vars the buildpacks' bin/release set; the
// env files are overlaid on them (the env files win).
func (s *Slug) ConfigVars() map[string]string {
	out := make(map[string]string, len(s.Meta.Release.ConfigVars))
	for k, v := range s.Meta.Release.ConfigVars {
		out[k] = v
	}
	return out
}

// profileScript is run by bash with HOME set to the slug dir: it sources
// .profile.d/*.sh (sorted, as the glob expands) and .profile like a dyno
// does, then replaces itself with the command ($0) or the argv ("$@").
const profileScript = `cd "$HOME" || exit 1
for __ganger_f in .profile.d/*.sh; do
	[ -r "$__ganger_f" ] && . "$__ganger_f"
done
unset __ganger_f
[ -r .profile ] && . .profile
`

// ProcessCommand returns the argv that runs a Procfile command from a slug
// the way a dyno does:
//
//	bash -c 'cd "$HOME"; . .profile.d/*.sh; . .profile; exec bash -c -- "$0"' COMMAND
//
// The command is passed as an argument, never spliced into the script.
// Run it with cwd and HOME set to the slug dir, PORT, DYNO, PS and the
// config vars in its environment, in its own process group. A simple
// command ends up exec'd in place of both shells (bash execs the last
// simple command of -c), so the process the runner started is the program.
func ProcessCommand(command string) []string {
	return []string{"bash", "-c", profileScript + `exec bash -c -- "$0"`, command}
}

// processArgv is ProcessCommand for an argv instead of a command line.
func processArgv(argv ...string) []string {
	return append([]string{"bash", "-c", profileScript + `exec "$@"`, "ganger-profile"}, argv...)
}
