package env

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// slowEnviron is what Rendered.Environ must equal: the Env cloned, over set,
// checked and rendered.
func slowEnviron(e *Env, over []Var) ([]string, error) {
	c := e.Clone()
	for _, v := range over {
		c.Set(v.Key, v.Value, v.Source)
	}
	if err := c.CheckExec(); err != nil {
		return nil, err
	}
	return c.Environ(), nil
}

func checkRender(t *testing.T, e *Env, over []Var) {
	t.Helper()
	r := e.Render()
	got, err := r.Environ(over...)
	want, wantErr := slowEnviron(e, over)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("Environ(%v): err = %v, want %v", over, err, wantErr)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Environ(%v) =\n%q\nwant\n%q", over, got, want)
	}
}

func TestRenderedEnviron(t *testing.T) {
	base := FromEnviron([]string{"HOME=/home/u", "PATH=/bin", "PORT=1", "ZED=z", "A=a"})
	for _, tt := range []struct {
		name string
		over []Var
	}{
		{"none", nil},
		{"ganger's keys", []Var{{Key: "PORT", Value: "5000"}, {Key: "PS", Value: "web.1"}, {Key: "DYNO", Value: "web.1"}}},
		{"before every key", []Var{{Key: "0", Value: "x"}}},
		{"after every key", []Var{{Key: "zz", Value: "x"}}},
		{"replacing first and last", []Var{{Key: "ZED", Value: "2"}, {Key: "A", Value: "1"}}},
		{"a key twice, the later wins", []Var{{Key: "PS", Value: "a"}, {Key: "PS", Value: "b"}}},
		{"empty key", []Var{{Key: "", Value: "x"}}},
		{"NUL in a value", []Var{{Key: "K", Value: "a\x00b"}}},
		{"too large", []Var{{Key: "BIG", Value: strings.Repeat("x", MaxEntry)}}},
		{"too large in total", []Var{
			{Key: "B1", Value: strings.Repeat("x", MaxEntry-8)}, {Key: "B2", Value: strings.Repeat("x", MaxEntry-8)},
			{Key: "B3", Value: strings.Repeat("x", MaxEntry-8)}, {Key: "B4", Value: strings.Repeat("x", MaxEntry-8)},
			{Key: "B5", Value: strings.Repeat("x", MaxEntry-8)}, {Key: "B6", Value: strings.Repeat("x", MaxEntry-8)},
			{Key: "B7", Value: strings.Repeat("x", MaxEntry-8)}, {Key: "B8", Value: strings.Repeat("x", MaxEntry-8)},
			{Key: "B9", Value: strings.Repeat("x", MaxEntry-8)}, {Key: "B10", Value: strings.Repeat("x", MaxEntry-8)},
			{Key: "B11", Value: strings.Repeat("x", MaxEntry-8)}, {Key: "B12", Value: strings.Repeat("x", MaxEntry-8)},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) { checkRender(t, base, tt.over) })
	}

	// A base too large on its own, made right by what is set on top.
	huge := FromEnviron([]string{"PORT=" + strings.Repeat("9", MaxEntry)})
	checkRender(t, huge, nil)
	checkRender(t, huge, []Var{{Key: "PORT", Value: "5000"}})

	// Later changes to the Env are not seen.
	e := FromEnviron([]string{"A=1"})
	r := e.Render()
	e.Set("A", "2", SourceGanger)
	if got, _ := r.Environ(); !slices.Equal(got, []string{"A=1"}) {
		t.Errorf("Environ after a change = %q, want [A=1]", got)
	}
}

// TestRenderedShares asserts what Rendered is for: a process's environment
// costs the slice and the keys set on top, not a copy of every variable.
func TestRenderedShares(t *testing.T) {
	var environ []string
	for i := range 60 {
		environ = append(environ, fmt.Sprintf("VAR_%02d=value number %d", i, i))
	}
	r := FromEnviron(environ).Render()
	over := []Var{{Key: "PORT", Value: "5000"}, {Key: "PS", Value: "web.1"}, {Key: "DYNO", Value: "web.1"}}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.Environ(over...); err != nil {
			t.Fatal(err)
		}
	})
	// The sorted copy of over, the result and one string per key of over.
	if allocs > 5 {
		t.Errorf("Environ made %v allocations for 60 variables and 3 set on top, want at most 5", allocs)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("A=1\nB=2\nPORT=3", "PORT", "5000", "PS", "web.1")
	f.Add("", "", "", "x", "y")
	f.Add("K=v", "K", "a\x00", "K", "b")
	f.Add("Z=1\nA=2", "M", "3", "A", "4")
	f.Fuzz(func(t *testing.T, environ, k1, v1, k2, v2 string) {
		base := FromEnviron(strings.Split(environ, "\n"))
		checkRender(t, base, []Var{{Key: k1, Value: v1}, {Key: k2, Value: v2}})
	})
}
