package buildpack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/gangerdev/ganger/procfile"
)

// HookMarker is the line that identifies a pre-push hook installed by
// ganger; InstallHook adds it and UninstallHook removes only
// hooks that have it.
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
// ganger check --boot of each commit pushed, and ganger test of it too when
// withTest.
func HookScript(app string, withTest bool) string {
	dir := procfile.ShellQuote(app)
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("# Written by \"ganger hook install\": checks the app before every git push.\n")
	b.WriteString("# A failure stops the push; \"git push --no-verify\" skips this hook once.\n")
	b.WriteString("# git gives one line per ref pushed: local ref, local commit, remote ref,\n")
	b.WriteString("# remote commit. Each commit pushed is built as it is, without the\n")
	b.WriteString("# working tree's uncommitted edits; a deleted ref (all zeros) has none.\n")
	b.WriteString("set -e\n")
	b.WriteString("checked=\n")
	b.WriteString("while read -r lref lsha rref rsha; do\n")
	b.WriteString("\tcase $lsha in *[!0]*) ;; *) continue ;; esac\n")
	b.WriteString("\tcase \" $checked \" in *\" $lsha \"*) continue ;; esac\n")
	b.WriteString("\tchecked=\"$checked $lsha\"\n")
	fmt.Fprintf(&b, "\tganger check --boot --commit \"$lsha\" -d %s </dev/null\n", dir)
	if withTest {
		fmt.Fprintf(&b, "\tganger test --commit \"$lsha\" -d %s </dev/null\n", dir)
	}
	b.WriteString("done\n")
	return b.String()
}

// HookInstall is what InstallHook did.
type HookInstall struct {
	Path string // the hook written
	// Backup is where the hook it replaced (one ganger did not write, with
	// force) now is; "" when there was none or it was ganger's own.
	Backup string
}

// HookBackupSuffix ends the name a replaced hook is kept under:
// pre-push.ganger-backup, then pre-push.ganger-backup.1, .2, ...
const HookBackupSuffix = ".ganger-backup"

// InstallHook writes script as hooksDir/pre-push (mode 0755,
// atomically), with HookMarker added after its first line. An existing
// pre-push hook that is not ganger's is left alone unless force; then it
// is kept as pre-push.ganger-backup (or .1, .2, ...: an earlier backup is
// never overwritten) before it is replaced, and the result says where.
// Ganger's own hook is replaced without a backup.
func InstallHook(hooksDir, script string, force bool) (HookInstall, error) {
	path := filepath.Join(hooksDir, HookName)
	ours, exists, err := hookIsOurs(path)
	if err != nil {
		return HookInstall{}, err
	}
	if exists && !ours && !force {
		return HookInstall{}, fmt.Errorf("%s exists and was not installed by ganger; hint: use --force to replace it (it is kept as %s%s)", path, HookName, HookBackupSuffix)
	}
	res := HookInstall{Path: path}
	if exists && !ours {
		if res.Backup, err = backupHook(path); err != nil {
			return HookInstall{}, err
		}
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
		return HookInstall{}, fmt.Errorf("creating the hooks directory %s: %w", hooksDir, err)
	}
	f, err := os.CreateTemp(hooksDir, "."+HookName+".tmp-")
	if err != nil {
		return HookInstall{}, fmt.Errorf("writing %s: %w", path, err)
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
	if err != nil && res.Backup != "" {
		return HookInstall{}, fmt.Errorf("writing %s: %w (the previous hook is kept as %s)", path, err, res.Backup)
	}
	if err != nil {
		return HookInstall{}, fmt.Errorf("writing %s: %w", path, err)
	}
	return res, nil
}

// maxHookBackups bounds the numbered backup names tried.
const maxHookBackups = 1000

// backupHook keeps the hook at path (a file or a symlink, as it is) under
// the first free backup name, never replacing one, and returns that name.
func backupHook(path string) (string, error) {
	for i := 0; i < maxHookBackups; i++ {
		name := path + HookBackupSuffix
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		err := keepAs(path, name)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("keeping %s as %s before replacing it: %w; hint: move it away yourself", path, name, err)
		}
	}
	return "", fmt.Errorf("keeping %s before replacing it: %s%s to .%d all exist; hint: remove old backups", path, path, HookBackupSuffix, maxHookBackups-1)
}

// keepAs makes name a second name of the file or symlink at path (a hard
// link, which fails when name exists), or else a copy made with O_EXCL.
func keepAs(path, name string) error {
	err := os.Link(path, name)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, lerr := os.Lstat(path)
	if lerr != nil {
		return lerr
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		return os.Symlink(target, name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, fi.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return err
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
