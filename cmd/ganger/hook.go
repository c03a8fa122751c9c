package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

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
					&cli.BoolFlag{Name: "force", Usage: "replace a pre-push hook ganger did not write"},
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
					path := relPath(filepath.Join(dir, buildpack.HookName))
					if !removed {
						fmt.Fprintf(st.out, "no pre-push hook in %s: nothing to remove\n", relPath(dir))
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
		return &usageError{err: fmt.Errorf("hook install: unexpected argument %q", c.Args().First()), hint: "example: ganger hook install --test"}
	}
	dir, app, err := hookDirs(c, st)
	if err != nil {
		return err
	}
	withTest := c.Bool("test")
	path, err := buildpack.InstallHook(dir, hookScript(app, withTest), c.Bool("force"))
	if err != nil {
		return fmt.Errorf("hook install: %w", err)
	}
	runs := "ganger check --boot"
	if withTest {
		runs += " and ganger test"
	}
	fmt.Fprintf(st.out, "installed %s: runs %s before every git push\n", relPath(path), runs)
	return nil
}

// hookDirs returns the repository's hooks directory and the app root
// relative to the top of its working tree, where git runs hooks.
func hookDirs(c *cli.Context, st *streams) (hooks, app string, err error) {
	set := &settings{c: c, st: st}
	root, err := filepath.Abs(set.str("root", "."))
	if err != nil {
		return "", "", err
	}
	hooks, err = buildpack.HooksDir(c.Context, root, st.environ)
	if err != nil {
		return "", "", &usageError{err: fmt.Errorf("hook: %w", err), hint: "run it inside the app's git repository, or name the app with -d"}
	}
	cmd := exec.CommandContext(c.Context, "git", "-C", root, "rev-parse", "--show-toplevel")
	cmd.Env = st.environ
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("hook: finding the top of the working tree of %s: %w: %s; hint: hooks need a repository with a working tree", root, err, strings.TrimSpace(stderr.String()))
	}
	top := strings.TrimSpace(string(out))
	// Compare resolved paths: the app root may be reached through a symlink.
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", "", err
	}
	rel, err := filepath.Rel(top, realRoot)
	if err != nil || !filepath.IsLocal(rel) {
		return "", "", fmt.Errorf("hook: the app root %s is not inside its repository's working tree %s", root, top)
	}
	return hooks, rel, nil
}

// hookScript is the pre-push hook: git runs it from the top of the working
// tree, so the app is named relative to it and the repository can move.
func hookScript(app string, withTest bool) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("# Written by \"ganger hook install\": checks the app before every git push.\n")
	b.WriteString("# A failure stops the push; \"git push --no-verify\" skips this hook once.\n")
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, "ganger check --boot -d %s\n", shQuote(app))
	if withTest {
		fmt.Fprintf(&b, "ganger test -d %s\n", shQuote(app))
	}
	return b.String()
}
