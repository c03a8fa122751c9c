package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/export"
	"github.com/gangerdev/ganger/procfile"
)

// ExportOptions are what "ganger export" names beyond the app.
type ExportOptions struct {
	Name   string // the app's name; "" for the root's directory name
	User   string
	Image  string
	LogDir string
}

// Export turns the app into what "ganger export" writes: the formation and
// ports exactly as "ganger start" computes them, the commands as its shell
// runs them (or from the slug, when the app was loaded from one), and the
// env-file config. The notes say what was left out and why.
func (a *App) Export(o ExportOptions) (export.App, []string, error) {
	ex := export.App{Name: o.Name, Root: a.Root, User: o.User, Image: o.Image, Timeout: a.Timeout()}
	if ex.Name == "" {
		ex.Name = filepath.Base(a.Root)
	}
	var notes []string
	if a.Timeout() <= 0 {
		// 0 would mean "no timeout" to systemd and the default to the export
		// package; one second is the least every engine takes.
		ex.Timeout = time.Second
		notes = append(notes, "--timeout 0 is exported as 1 second, the shortest stop timeout the engines take")
	}
	if o.LogDir != "" {
		abs, err := filepath.Abs(o.LogDir)
		if err != nil {
			return ex, nil, fmt.Errorf("log directory %s: %w", o.LogDir, err)
		}
		ex.LogDir = abs
	}
	command := shellCommand
	ex.Config = EnvFileVars(a.Env)
	if a.Slug != nil {
		ex.Root, command = a.Slug.Dir, slugCommand
	}
	types, more, err := a.exportTypes(command)
	if err != nil {
		return ex, nil, err
	}
	ex.Types = types
	return ex, append(notes, more...), nil
}

// shellCommand is a Procfile command as "ganger start" runs it under
// /bin/sh -c: prefixed with exec when it is a simple command, so the
// engine's signals reach the program rather than the shell.
func shellCommand(command string) string {
	return procfile.ShellArgv(command)[2]
}

// exportTypes expands the formation (-m, -p) into one export.Type per type
// with instances, in Procfile order. Types scaled to 0 and release are left
// out, each with a note.
func (a *App) exportTypes(command func(string) string) ([]export.Type, []string, error) {
	insts, err := procfile.Instances(a.Procfile, nil, a.opts.Formation, a.Port)
	if err != nil {
		return nil, nil, &UsageError{Err: err}
	}
	byType := map[string][]procfile.Instance{}
	for _, in := range insts {
		byType[in.Type] = append(byType[in.Type], in)
	}
	var types []export.Type
	var zero, notes []string
	for _, e := range a.Procfile.Entries {
		if e.Name == procfile.Release {
			notes = append(notes, `release is not exported: the platform runs it once per deploy, not as a long-running process; run it with "ganger run release"`)
			continue
		}
		ins := byType[e.Name]
		if len(ins) == 0 {
			zero = append(zero, e.Name)
			continue
		}
		types = append(types, export.Type{Name: e.Name, Command: command(e.Command), Instances: ins})
	}
	if len(zero) > 0 {
		notes = append(notes, fmt.Sprintf("scaled to 0 and left out: %s", strings.Join(zero, ", ")))
	}
	if len(types) == 0 {
		return nil, nil, &UsageError{Err: errors.New("nothing to export: every process type is scaled to 0"), Hint: "use -m to choose counts, such as -m all=1"}
	}
	return types, notes, nil
}

// slugCommand is the one shell line that runs a Procfile command from the
// slug as a dyno does (buildpack.ProcessCommand): HOME is the slug, which is
// the working directory every format sets (App.Root on the host, the image's
// work directory in containers), and the profile is sourced first. The
// formats need one line, so the profile script is joined into one.
func slugCommand(command string) string {
	argv := buildpack.ProcessCommand(command)
	argv[2] = oneLine(argv[2])
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = procfile.ShellQuote(a)
	}
	return `export HOME="$PWD" && exec ` + strings.Join(words, " ")
}

// oneLine joins a shell script's lines: with "; " after a complete command,
// with a blank after a word that must be followed by more (do, then, &&,
// ...). It is meant for buildpack's profile script, a list of simple
// commands and loops without multi-line quotes or here-documents; a test
// runs both forms and compares them.
func oneLine(script string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if continues(b.String()) {
				b.WriteByte(' ')
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// continues reports whether s ends where a command list cannot: after a
// reserved word that opens a body, an operator or a separator.
func continues(s string) bool {
	for _, end := range []string{"&&", "||", "|", ";", "{", "("} {
		if strings.HasSuffix(s, end) {
			return true
		}
	}
	fields := strings.Fields(s)
	switch fields[len(fields)-1] {
	case "do", "then", "else", "elif", "in":
		return true
	}
	return false
}
