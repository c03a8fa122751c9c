package control

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// WriteTable writes procs as the "ganger ps" table, in the order given:
//
//	NAME      STATE    PID    PORT  UPTIME  RESTARTS  EXIT
//	web.1     running  4242   5000  3m05s   0         -
//	worker.1  crashed  -      -     -       2         1
//
// UPTIME is now minus Started for a process that has a start time and is
// running or stopping. EXIT is the last exit code, or the signal that ended
// the last run. Control characters in names and states are escaped.
func WriteTable(w io.Writer, procs []Process, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPID\tPORT\tUPTIME\tRESTARTS\tEXIT")
	for _, p := range procs {
		uptime := "-"
		if !p.Started.IsZero() && (p.State == StateRunning || p.State == StateStopping) {
			uptime = formatUptime(now.Sub(p.Started))
		}
		exit := "-"
		switch {
		case p.Signal != "":
			exit = printable(p.Signal)
		case p.ExitCode != nil:
			exit = strconv.Itoa(*p.ExitCode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			printable(p.Name), printable(p.State), dashZero(p.PID), dashZero(p.Port),
			uptime, p.Restarts, exit)
	}
	return tw.Flush()
}

func dashZero(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// formatUptime renders d compactly at a precision that suits its size:
// 45s, 5m07s, 3h05m, 2d04h.
func formatUptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// printable escapes control and other non-printing characters (and tabs,
// which would break the columns) so a name cannot drive the terminal.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}
