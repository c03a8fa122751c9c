// Package app is the app as the platform sees it, between the command line
// and the packages that do the work.
//
// It owns finding an app (Find: -d, -f, else the nearest directory up with a
// Procfile) and loading it from typed Options (its Procfile, env files,
// ganger.yml and, when asked, the slug of "ganger build"); the formation and
// each instance's environment; the release phase; running a formation from
// a context.Context and an output writer (Start); the reload decisions of
// --watch, a process restarting itself included; crash alerts (on_crash
// hooks and desktop notifications, see alert.go); the platform's router in
// front of web (routing.go: the formation moves one port up, web restarts
// become preboots, the supervisor's events drive package app/router's
// table); what a running start answers on its control socket (ps, restart,
// stop, logs from its journal, attach, quit); the moment a formation is up
// (StartOptions.Up, for a detached start); the boot check and its verdicts
// (BootCheck); and what "ganger export", "ganger check" and "ganger run"
// need.
//
// It knows nothing of flags, GANGER_* variables, .foreman, terminals or
// os/signal: cmd/ganger resolves those into Options and Signals. Errors that
// decide the exit code are typed: UsageError (a mistake on the command line,
// exit 2) and ExitError (a given code). Only cmd/ganger imports this package.
package app
