package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration is the one rule for every duration ganger reads, on the
// command line (-t, --debounce, --settle, --boot-timeout), in GANGER_*
// variables, .foreman and ganger.yml: a bare number is seconds (foreman's
// -t 5, or 0.5), and a Go duration ("500ms", "2s", "1m30s") says its unit.
// Negative durations are refused; whether 0 makes sense is the caller's
// call.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f >= 0 && f <= float64(1<<63-1)/float64(time.Second)) { // NaN too
			return 0, fmt.Errorf("duration %q is out of range", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: want seconds (5, 0.5) or a number with a unit (500ms, 2s, 1m)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}
