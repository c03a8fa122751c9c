// Package config reads ganger.yml and .foreman, and says how durations are
// written.
//
// .foreman (ReadForeman) is foreman's file of long option names and values
// at the app root; the CLI passes the names it knows and resolves the values
// under its flags and GANGER_* variables. ParseDuration is the one rule for
// every duration ganger reads: a bare number is seconds, "500ms" says its
// unit.
//
// ganger.yml is the optional file at the app root that
// holds what a Procfile has no syntax for: per-process restart policies,
// oneshots, stop signals, watch globs, readiness and start order, the
// file watcher's settings, and crash alerts.
//
//	# ganger.yml
//	debounce: 200ms            # quiet time that ends a burst of changes
//	watch_ignore: [tmp/, "*.log"]
//	on_crash: ./bin/page-me    # sh -c'd when a process exits unasked
//	notify: true               # and a desktop notification (start --notify)
//	router: true               # the platform's router in front of web (start --router)
//	daemon: true               # start detaches (start -D)
//	processes:
//	  web:
//	    restart: on-failure    # never (default), on-failure or always
//	    stop_signal: INT       # TERM (default), INT, QUIT, HUP, USR1, USR2, KILL
//	    watch: ["**/*.go"]     # restart on these changes only
//	    ready: port            # port (web's default), none, or {line: REGEX}
//	    after: [migrate]       # start once these are ready (oneshots: done)
//	  migrate:
//	    oneshot: true          # runs to completion; non-zero fails the start
//	  clock:
//	    can_die: true          # its exit leaves the rest running
//
// Every problem is a *LineError naming ganger.yml and the line, unknown keys
// included, so a misspelt key is never ignored; so are a key set twice
// (YAML would keep the last silently) and a second YAML document (it would
// be ignored). The package parses and checks what it can on its own; checks
// that need the Procfile or the watcher's glob syntax are done by Check with
// what the caller passes in: unknown process types, in keys and in after:,
// bad watch globs, and cycles of after: (a process waiting for itself, or
// a -> b -> a, named at the after: that closes the cycle). Parse and Check
// each return every problem, joined; Parse returns what it could read with
// its error, so a caller can Check that too and report everything at once.
// It imports no other ganger package.
package config
