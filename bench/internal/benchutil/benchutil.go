// Package benchutil holds what ganger's benchmark programs share: building
// ganger from the working tree, the environment they run it in, reading a
// process's CPU time and memory from /proc (Linux), and medians.
package benchutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Build compiles ganger from the module the command runs in into dir and
// returns the binary's path. prog names the benchmark in the hint. It builds
// as the README installs ganger: with the urfave_cli_no_docs tag, and static
// (CGO_ENABLED=0) unless CGO_ENABLED is set in the environment:
// CGO_ENABLED=1 measures the libc-linked build that a plain "go build" gives
// where a C compiler is installed.
func Build(dir, prog string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run %s inside the ganger module: go run ./bench/%s", prog, prog)
	}
	bin := filepath.Join(dir, "ganger")
	cmd := exec.Command("go", "build", "-tags", NoDocsTag, "-o", bin, "./cmd/ganger")
	cmd.Dir = filepath.Dir(gomod)
	if _, ok := os.LookupEnv("CGO_ENABLED"); !ok {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/ganger: %w\n%s", err, out)
	}
	return bin, nil
}

// NoDocsTag is the build tag the README installs ganger with: it leaves
// urfave/cli's man-page and Markdown generators out.
const NoDocsTag = "urfave_cli_no_docs"

// Env is the environment without settings that would change ganger's
// behaviour (GANGER_*, colour) or the children's.
func Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GANGER_") || k == "FORCE_COLOR" || k == "PORT" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "NO_COLOR=1")
}

// ClkTck is the kernel's clock tick rate for /proc/PID/stat (USER_HZ), 100
// on every Linux architecture Go supports.
const ClkTck = 100

// CPUTime reads utime+stime of pid from /proc/PID/stat.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After the command: state is field 3, utime 14 and stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("/proc/" + strconv.Itoa(pid) + "/stat: bad utime/stime")
	}
	return time.Duration(ut+st) * time.Second / ClkTck, nil
}

// VMRSS reads VmRSS of pid in KiB from /proc/PID/status.
func VMRSS(pid int) (int64, error) { return Status(pid, "VmRSS") }

// Status reads the number of field key ("VmRSS", "VmHWM", "Threads") of
// pid from /proc/PID/status; sizes are in KiB.
func Status(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			if f := strings.Fields(v); len(f) >= 1 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

// Median returns the middle value of d (the upper one of an even count).
func Median[T int64 | time.Duration](d []T) T {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// Round shows a duration to a useful precision.
func Round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}

// Row is one line of a bench program's table: what was measured, ganger's
// figure, the baseline from the same run, and the ratio or a note.
type Row struct{ What, Value, Base, Note string }

// Table runs each step in order and prints the rows they return as one
// aligned table; it stops at the first step that fails.
func Table(w io.Writer, steps ...func() ([]Row, error)) error {
	var rows []Row
	for _, s := range steps {
		r, err := s()
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nmeasurement\tganger\tbaseline\tratio / note\n")
	fmt.Fprintf(tw, "-----------\t------\t--------\t------------\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.What, r.Value, r.Base, r.Note)
	}
	return tw.Flush()
}
