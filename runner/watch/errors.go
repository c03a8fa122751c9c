package watch

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// ErrWatchLimit is wrapped by the warning sent when the kernel refuses more
// watches (inotify's fs.inotify.max_user_watches, or the open-files limit
// where each watch is a file descriptor). Watching goes on for the
// directories that could be watched.
var ErrWatchLimit = errors.New("file watch limit reached")

// ErrOverflow is wrapped by the warning sent when the kernel dropped events
// because they came faster than they were read. The watcher rescans the tree
// and delivers a Batch with Overflow set.
var ErrOverflow = errors.New("file events were lost")

// isLimit reports whether err from adding a watch means a kernel limit.
func isLimit(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// limitHint says which limit to raise and how.
func limitHint(err error) string {
	if errors.Is(err, syscall.ENOSPC) {
		return "raise fs.inotify.max_user_watches" + current("/proc/sys/fs/inotify/max_user_watches") +
			", e.g. `sudo sysctl fs.inotify.max_user_watches=524288` (add it to /etc/sysctl.d/ to keep it)," +
			" or ignore big directories with --watch-ignore"
	}
	return "raise the open-files limit (`ulimit -n`) or ignore big directories with --watch-ignore"
}

// instancesHint is for a failure to create the watcher itself: on Linux,
// EMFILE there means fs.inotify.max_user_instances.
func instancesHint(err error) string {
	if errors.Is(err, syscall.EMFILE) {
		return "; too many file watchers are open: raise fs.inotify.max_user_instances" +
			current("/proc/sys/fs/inotify/max_user_instances") +
			", e.g. `sudo sysctl fs.inotify.max_user_instances=512`, or stop other watchers"
	}
	return ""
}

// current returns " (now N)" read from a /proc/sys file, or "" when it
// cannot be read (not Linux).
func current(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	return " (now " + strings.TrimSpace(string(b)) + ")"
}

func limitError(first string, n int, err error) error {
	return fmt.Errorf("%w: %d director%s not watched (first: %s), changes there will be missed; %s: %w",
		ErrWatchLimit, n, plural(n, "y is", "ies are"), first, limitHint(err), err)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
