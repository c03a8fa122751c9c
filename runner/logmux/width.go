package logmux

// PrefixWidth is how many columns the prefix (timestamp, name, "| ") takes
// on screen before each line, colour codes aside. ganger narrows a child's
// terminal by as much, so the child's full-width lines fit after it.
func (m *Mux) PrefixWidth() int {
	w := 0
	if m.opts.Timestamp {
		w += len("15:04:05")
	}
	if m.opts.Prefix {
		if m.opts.Timestamp {
			w++
		}
		w += m.width + len(" |")
	}
	if m.opts.Timestamp || m.opts.Prefix {
		w++ // the space before the text
	}
	return w
}
