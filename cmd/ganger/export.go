package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/export"
)

func exportFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "app", Aliases: []string{"a"}, Usage: "the app `NAME` in unit, program and object names (default: the app root's directory name)"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "the account `NAME` the processes run as (host formats; default: the engine's)"},
		&cli.StringFlag{Name: "log", Aliases: []string{"l"}, Usage: "the `DIR` for log files (host formats; default: the engine's own logging)"},
		&cli.BoolFlag{Name: "slug", Usage: "run the commands from the slug ganger build made (.ganger/slug), its profile sourced"},
		&cli.StringFlag{Name: "image", Usage: "the container image `REF` (compose and kubernetes; required there)"},
		&cli.StringFlag{Name: "template", Usage: "a `DIR` of templates replacing the built-in ones of the same name"},
		&cli.BoolFlag{Name: "user-units", Usage: "systemd: units for the user manager (systemctl --user)"},
		&cli.BoolFlag{Name: "split", Usage: "kubernetes: one file per object instead of one multi-document file"},
		&cli.BoolFlag{Name: "force", Usage: "overwrite or remove files ganger did not write, or that were edited since"},
	}
}

func exportCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the formation as systemd, supervisord, launchd, runit, compose or kubernetes config",
		ArgsUsage: "FORMAT DIR",
		Description: `Writes the app's formation into DIR as the configuration of a process manager or
orchestrator. FORMAT is one of: ` + strings.Join(export.Formats(), ", ") + `.

The formation, PORT, PS and DYNO are what "ganger start" would give each instance:
PORT = base + 100 × the type's position in the Procfile + (instance − 1). Types scaled to 0
by -m are left out, and so is release: the platform runs it once per deploy, not as a
long-running process (run it with "ganger run release"). The config is the variables of the
env files only, never the shell's; it goes in a file of mode 0600 (the Kubernetes Secret,
launchd's plists, runit's env/ files), never in a world-readable one.

DIR/.ganger-export.manifest records what ganger wrote. Re-running the export replaces those files
and removes the ones no longer produced; a file ganger did not write, or one edited since, is
never overwritten without --force, and then nothing at all is written. Files are written
atomically (a temporary file renamed into place).

-u/--user NAME is the account the processes run as; --user-units writes systemd units for
"systemctl --user" instead (foreman spells that "--user", which ganger keeps for the account).

With --slug the commands run from the slug of "ganger build" (.ganger/slug, also the working
directory) with HOME set to it and .profile.d/*.sh and .profile sourced, as on a dyno; the
slug's Procfile and its buildpacks' default process types and config vars are used, the env
files winning over the config vars.

Examples:
   sudo ganger export -a shop -u shop -l /var/log/shop -m web=2,worker=1 systemd /etc/systemd/system
   ganger export --user-units systemd ~/.config/systemd/user
   ganger export -u shop supervisord /etc/supervisor/conf.d
   ganger export launchd ~/Library/LaunchAgents
   ganger export -u shop runit /etc/sv
   ganger export --image registry.example.com/shop:1.4 compose .
   ganger export --image registry.example.com/shop:1.4 --split kubernetes k8s
   ganger export --slug systemd /tmp/units        # after ganger build
   ganger export --template my-templates systemd /tmp/units`,
		Flags: append(append(appFlags(), formationFlags()...), exportFlags()...),
		Action: func(c *cli.Context) error {
			return runExport(c, st)
		},
	}
}

// runExport checks the arguments before reading anything, builds the App
// and writes it.
func runExport(c *cli.Context, st *streams) error {
	formats := export.Formats()
	if c.NArg() != 2 {
		return &app.UsageError{
			Err:  fmt.Errorf("export: want FORMAT DIR, got %d argument%s", c.NArg(), plural(c.NArg())),
			Hint: "formats: " + strings.Join(formats, ", ") + "; example: ganger export systemd /tmp/units",
		}
	}
	format, dir := c.Args().Get(0), c.Args().Get(1)
	if !slices.Contains(formats, format) {
		return &app.UsageError{Err: fmt.Errorf("export: unknown format %q", format), Hint: "formats: " + strings.Join(formats, ", ")}
	}
	if dir == "" {
		return &app.UsageError{Err: errors.New("export: the directory is empty"), Hint: "name the directory to write into, such as ."}
	}
	slug, need, err := slugNeed(c, st, app.NeedProcfile)
	if err != nil {
		return err
	}
	set, o, err := loadOptions(c, st, need)
	if err != nil {
		return err
	}
	o.Slug = slug
	o.Command = "export --slug"
	a, err := app.Load(o)
	if err != nil {
		return err
	}
	opt, err := exportOptions(c, set, format)
	if err != nil {
		return err
	}
	ex, notes, err := a.Export(app.ExportOptions{Name: set.str("app", ""), User: set.str("user", ""), Image: set.str("image", ""), LogDir: set.str("log", "")})
	if err != nil {
		return err
	}
	res, err := export.Write(format, dir, ex, opt)
	if err != nil {
		return err
	}
	printExport(st, format, ex.Name, res, append(notes, res.Notes...))
	return nil
}

// exportOptions reads the options of export.Write, refusing those that do
// not apply to format.
func exportOptions(c *cli.Context, set *settings, format string) (export.Options, error) {
	var opt export.Options
	var err error
	if opt.Split, err = set.bool("split"); err != nil {
		return opt, err
	}
	if opt.UserUnits, err = set.bool("user-units"); err != nil {
		return opt, err
	}
	if opt.Split && format != "kubernetes" {
		return opt, &app.UsageError{Err: fmt.Errorf("export %s: --split applies to kubernetes only", format)}
	}
	if opt.UserUnits && format != "systemd" {
		return opt, &app.UsageError{Err: fmt.Errorf("export %s: --user-units applies to systemd only", format)}
	}
	// --force is never taken from the environment or .foreman: overwriting
	// someone's files has to be asked for each time.
	opt.Force = c.Bool("force")
	opt.Template = set.str("template", "")
	return opt, nil
}

// printExport says what was written and removed, relative to the export
// directory, then every note on stderr.
func printExport(st *streams, format, app string, res export.Result, notes []string) {
	fmt.Fprintf(st.out, "exported %s as %s into %s\n", app, format, res.Dir)
	for _, f := range res.Written {
		fmt.Fprintf(st.out, "  wrote   %s\n", f)
	}
	for _, f := range res.Removed {
		fmt.Fprintf(st.out, "  removed %s\n", f)
	}
	for _, n := range notes {
		fmt.Fprintf(st.err, "ganger: note: %s\n", n)
	}
}
