package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/export"
	"github.com/gangerdev/ganger/procfile"
)

// buildExportApp turns the project into what "ganger export" writes: the
// formation and ports exactly as "ganger start" computes them, the commands
// as its shell runs them (or from the slug), and the env-file config. The
// notes say what was left out and why.
func buildExportApp(p *project, slug bool) (export.App, []string, error) {
	app := export.App{
		Name:    p.set.str("app", filepath.Base(p.root)),
		Root:    p.root,
		User:    p.set.str("user", ""),
		Image:   p.set.str("image", ""),
		Timeout: p.timeout,
	}
	var notes []string
	if p.timeout <= 0 {
		// 0 would mean "no timeout" to systemd and the default to the export
		// package; one second is the least every engine takes.
		app.Timeout = time.Second
		notes = append(notes, "--timeout 0 is exported as 1 second, the shortest stop timeout the engines take")
	}
	if dir, ok := p.set.lookup("log"); ok && dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return app, nil, fmt.Errorf("log directory %s: %w", dir, err)
		}
		app.LogDir = abs
	}

	pf, command := p.pf, shellCommand
	app.Config = envFileVars(p.env)
	if slug {
		s, err := loadSlug(p, "export --slug")
		if err != nil {
			return app, nil, err
		}
		if pf, _, err = slugProcfile(p, s, "export --slug"); err != nil {
			return app, nil, err
		}
		app.Root, command = s.Dir, slugCommand
		app.Config = append(releaseConfig(s), app.Config...)
	}

	types, more, err := exportTypes(p, pf, command)
	if err != nil {
		return app, nil, err
	}
	app.Types = types
	return app, append(notes, more...), nil
}

// shellCommand is a Procfile command as "ganger start" runs it under
// /bin/sh -c: prefixed with exec when it is a simple command, so the
// engine's signals reach the program rather than the shell.
func shellCommand(command string) string {
	return procfile.ShellArgv(command)[2]
}

// exportTypes expands the formation of pf (-m, -p) into one export.Type per
// type with instances, in Procfile order. Types scaled to 0 and release are
// left out, each with a note.
func exportTypes(p *project, pf *procfile.Procfile, command func(string) string) ([]export.Type, []string, error) {
	_, f, err := p.selection(nil)
	if err != nil {
		return nil, nil, err
	}
	insts, err := procfile.Instances(pf, nil, f, p.port)
	if err != nil {
		return nil, nil, &usageError{err: err}
	}
	byType := map[string][]procfile.Instance{}
	for _, in := range insts {
		byType[in.Type] = append(byType[in.Type], in)
	}
	var types []export.Type
	var zero []string
	var notes []string
	for _, e := range pf.Entries {
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
		return nil, nil, &usageError{
			err:  errors.New("nothing to export: every process type is scaled to 0"),
			hint: "use -m to choose counts, such as -m all=1",
		}
	}
	return types, notes, nil
}

// envFileVars is the part of e that came from env files: neither the shell
// ganger runs in nor ganger's own PORT, PS and DYNO.
func envFileVars(e *env.Env) []env.Var {
	var out []env.Var
	for _, v := range e.Vars() {
		if v.Source == env.SourceShell || v.Source == env.SourceGanger {
			continue
		}
		out = append(out, v)
	}
	return out
}
