package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/buildpack"
)

func hookCommand(st *streams) *cli.Command {
	root := &cli.StringFlag{Name: "root", Aliases: []string{"d"}, Usage: "the app root `DIR` (default: .)"}
	return &cli.Command{
		Name:  "hook",
		Usage: "install or remove the git pre-push hook that checks the app before every push",
		Description: `"ganger hook install" writes the repository's pre-push hook (.git/hooks/pre-push, or
core.hooksPath) running "ganger check --boot" for the app, and also "ganger test" with
--test; a failure stops the push ("git push --no-verify" skips the hook once). The hook
runs ganger from PATH, in the app root, so .foreman applies. An existing pre-push hook
ganger did not write is never replaced without --force. "ganger hook uninstall"
removes the hook only if ganger wrote it.

Examples:
   ganger hook install
   ganger hook install --test -d examples/buildpack-app
   ganger hook uninstall`,
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "write the pre-push hook",
				Flags: []cli.Flag{
					root,
					&cli.BoolFlag{Name: "test", Usage: "also run ganger test before every push"},
					&cli.BoolFlag{Name: "force", Usage: "replace a pre-push hook ganger did not write (it is kept as pre-push.ganger-backup)"},
				},
				Action: func(c *cli.Context) error {
					return installHook(c, st)
				},
			},
			{
				Name:  "uninstall",
				Usage: "remove the pre-push hook ganger wrote",
				Flags: []cli.Flag{root},
				Action: func(c *cli.Context) error {
					dir, _, err := hookDirs(c, st)
					if err != nil {
						return err
					}
					removed, err := buildpack.UninstallHook(dir)
					if err != nil {
						return fmt.Errorf("hook uninstall: %w", err)
					}
					path := app.RelPath(filepath.Join(dir, buildpack.HookName))
					if !removed {
						fmt.Fprintf(st.out, "no pre-push hook in %s: nothing to remove\n", app.RelPath(dir))
						return nil
					}
					fmt.Fprintf(st.out, "removed %s\n", path)
					return nil
				},
			},
		},
	}
}

func installHook(c *cli.Context, st *streams) error {
	if c.NArg() > 0 {
		return &app.UsageError{Err: fmt.Errorf("hook install: unexpected argument %q", c.Args().First()), Hint: "example: ganger hook install --test"}
	}
	dir, appDir, err := hookDirs(c, st)
	if err != nil {
		return err
	}
	withTest := c.Bool("test")
	res, err := buildpack.InstallHook(dir, buildpack.HookScript(appDir, withTest), c.Bool("force"))
	if err != nil {
		return fmt.Errorf("hook install: %w", err)
	}
	path := res.Path
	if res.Backup != "" {
		fmt.Fprintf(st.out, "kept the previous pre-push hook as %s\n", app.RelPath(res.Backup))
	}
	runs := "ganger check --boot"
	if withTest {
		runs += " and ganger test"
	}
	fmt.Fprintf(st.out, "installed %s: runs %s before every git push\n", app.RelPath(path), runs)
	return nil
}

// hookDirs returns the repository's hooks directory and the app root
// relative to the top of its working tree, where git runs hooks.
func hookDirs(c *cli.Context, st *streams) (hooks, dir string, err error) {
	set, err := loadSettings(c, st, app.NeedSource)
	if err != nil {
		return "", "", err
	}
	root := set.root
	if r := set.path("root"); r != "" {
		if root, err = filepath.Abs(r); err != nil {
			return "", "", err
		}
	}
	hooks, dir, err = buildpack.HookTarget(c.Context, root, st.environ)
	if err != nil {
		return "", "", &app.UsageError{Err: fmt.Errorf("hook: %w", err), Hint: "run it inside the app's git repository, or name the app with -d"}
	}
	return hooks, dir, nil
}
