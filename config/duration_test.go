package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5", 5 * time.Second, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{"0.5", 500 * time.Millisecond, true},
		{"500ms", 500 * time.Millisecond, true},
		{"2s", 2 * time.Second, true},
		{"1m", time.Minute, true},
		{"1m30s", 90 * time.Second, true},
		{"-1", 0, false},
		{"-2s", 0, false},
		{"", 0, false},
		{"5 s", 0, false},
		{"fast", 0, false},
		{"1e300", 0, false},
		{"NaN", 0, false},
	} {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
