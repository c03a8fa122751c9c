package control

import (
	"os"
	"path/filepath"
)

// AppDir returns the app's .ganger directory (root/.ganger), created with
// mode 0700 and a .gitignore of "*" when missing, and checked as the lock's
// directory is: never a symlink, never another user's. Files ganger keeps
// for a running start (its detached log) live there.
func AppDir(root string) (string, error) {
	gdir := filepath.Join(root, appDirName)
	d, err := openAppDir(gdir, os.Getuid())
	if err != nil {
		return "", err
	}
	d.Close()
	return gdir, nil
}
