package env

import (
	"slices"
	"strings"
)

// Rendered is an Env rendered once for exec, to hand to many processes that
// differ only in a few keys (PORT, PS, DYNO). Environ shares the rendered
// entries among them, where cloning the Env for each process would copy
// every variable several times over.
type Rendered struct {
	env     *Env     // a copy, for the exact error when a check fails
	keys    []string // sorted
	entries []string // "KEY=VALUE", in the order of keys
	total   int      // what CheckExec counts for entries
	ok      bool     // the Env alone passes CheckExec
}

// Render renders e as it is now; later changes to e are not seen.
func (e *Env) Render() *Rendered {
	vars := e.Vars()
	r := &Rendered{
		env:     e.Clone(),
		keys:    make([]string, len(vars)),
		entries: make([]string, len(vars)),
		total:   8, // the terminating NULL pointer
		ok:      e.CheckExec() == nil,
	}
	for i, v := range vars {
		r.keys[i] = v.Key
		r.entries[i] = v.Key + "=" + v.Value
		r.total += len(r.entries[i]) + 1 + 8
	}
	return r
}

// Environ returns "KEY=VALUE" strings sorted by key, for exec.Cmd.Env: the
// rendered Env with over set on top, a later Var of over winning. It gives
// what Clone, Set of each of over, CheckExec and Environ would give, error
// included, without copying the Env.
func (r *Rendered) Environ(over ...Var) ([]string, error) {
	if out, ok := r.merge(over); ok {
		return out, nil
	}
	// Something is wrong, or over names a key twice: the slow way gives
	// the exact answer and error.
	e := r.env.Clone()
	for _, v := range over {
		e.set(v)
	}
	if err := e.CheckExec(); err != nil {
		return nil, err
	}
	return e.Environ(), nil
}

// merge is Environ's fast path: false when a check fails or a key of over
// repeats.
func (r *Rendered) merge(over []Var) ([]string, bool) {
	if !r.ok {
		return nil, false
	}
	over = slices.Clone(over)
	slices.SortFunc(over, func(a, b Var) int { return strings.Compare(a.Key, b.Key) })
	total := r.total
	for i, v := range over {
		if i > 0 && over[i-1].Key == v.Key || v.Key == "" || strings.ContainsAny(v.Key, "=\x00") || strings.IndexByte(v.Value, 0) >= 0 {
			return nil, false
		}
		size := len(v.Key) + 1 + len(v.Value) + 1
		if size > MaxEntry {
			return nil, false
		}
		if j, found := slices.BinarySearch(r.keys, v.Key); found {
			total -= len(r.entries[j]) + 1 + 8
		}
		total += size + 8
	}
	if total > maxEnviron {
		return nil, false
	}
	out := make([]string, 0, len(r.entries)+len(over))
	i := 0
	for _, v := range over {
		for i < len(r.keys) && r.keys[i] < v.Key {
			out = append(out, r.entries[i])
			i++
		}
		if i < len(r.keys) && r.keys[i] == v.Key {
			i++ // replaced
		}
		out = append(out, v.Key+"="+v.Value)
	}
	return append(out, r.entries[i:]...), true
}
