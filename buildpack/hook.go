package buildpack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gangerdev/ganger/procfile"
)

// HookMarker is the line that identifies a pre-push hook installed by
// ganger; InstallHook adds it and UninstallHook removes only hooks that
// have it.
const HookMarker = "# ganger-hook: pre-push (remove with: ganger hook uninstall)"

// HookName is the git hook ganger installs.
const HookName = "pre-push"

// HookTarget finds, for the app in appDir, the hooks directory of the git
// repository holding it (honouring core.hooksPath and worktrees) and the
// app's path relative to the top of the working tree, where git runs hooks.
func HookTarget(ctx context.Context, appDir string, environ []string) (hooksDir, app string, err error) {
	hooksDir, err = git(ctx, environ, io.Discard, "-C", appDir, "rev-parse", "--path-format=absolute", "--git-path", "hooks")
	if err != nil {
		return "", "", fmt.Errorf("%s is not in a git repository: %w", appDir, err)
	}
	top, err := git(ctx, environ, io.Discard, "-C", appDir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", "", fmt.Errorf("finding the top of the working tree of %s: %w; hint: hooks need a repository with a working tree", appDir, err)
	}
	// Compare resolved paths: the app root may be reached through a symlink.
	realRoot, err := filepath.EvalSymlinks(appDir)
	if err != nil {
		return "", "", err
	}
	rel, err := filepath.Rel(top, realRoot)
	if err != nil || !filepath.IsLocal(rel) {
		return "", "", fmt.Errorf("the app root %s is not inside its repository's working tree %s", appDir, top)
	}
	return hooksDir, rel, nil
}

// HookScript is the pre-push hook for the app at app (relative to the top
// of the working tree, where git runs hooks, so the repository can move):
// ganger check --boot, and ganger test too when withTest.
func HookScript(app string, withTest bool) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("# Written by \"ganger hook install\": checks the app before every git push.\n")
	b.WriteString("# A failure stops the push; \"git push --no-verify\" skips this hook once.\n")
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, "ganger check --boot -d %s\n", procfile.ShellQuote(app))
	if withTest {
		fmt.Fprintf(&b, "ganger test -d %s\n", procfile.ShellQuote(app))
	}
	return b.String()
}

// InstallHook writes script as hooksDir/pre-push (mode 0755, atomically),
// with HookMarker added after its first line. An existing pre-push hook
// that is not ganger's is left alone unless force; ganger's own is
// replaced. It returns the hook's path.
func InstallHook(hooksDir, script string, force bool) (string, error) {
	path := filepath.Join(hooksDir, HookName)
	ours, exists, err := hookIsOurs(path)
	if err != nil {
		return "", err
	}
	if exists && !ours && !force {
		return "", fmt.Errorf("%s exists and was not installed by ganger; hint: use --force to replace it", path)
	}
	if !strings.Contains(script, HookMarker) {
		first, rest, _ := strings.Cut(script, "\n")
		if strings.HasPrefix(first, "#!") {
			script = first + "\n" + HookMarker + "\n" + rest
		} else {
			script = "#!/bin/sh\n" + HookMarker + "\n" + script
		}
	}
	if !strings.HasSuffix(script, "\n") {
		script += "\n"
	}
	if err := os.MkdirAll(hooksDir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(hooksDir, "."+HookName+".tmp-")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(script)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// UninstallHook removes hooksDir/pre-push if ganger installed it. It
// reports whether a hook was removed; a hook that is not ganger's is an
// error and stays.
func UninstallHook(hooksDir string) (bool, error) {
	path := filepath.Join(hooksDir, HookName)
	ours, exists, err := hookIsOurs(path)
	if err != nil || !exists {
		return false, err
	}
	if !ours {
		return false, fmt.Errorf("%s was not installed by ganger; left alone", path)
	}
	if err := os.Remove(path); err != nil {
		return false, err
	}
	return true, nil
}

// hookIsOurs reports whether path exists and is a regular file holding
// HookMarker (a symlink is never ours).
func hookIsOurs(path string) (ours, exists bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	if !fi.Mode().IsRegular() {
		return false, true, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, true, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimRight(line, "\r") == HookMarker {
			return true, true, nil
		}
	}
	return false, true, nil
}
