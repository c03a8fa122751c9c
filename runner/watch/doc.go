// Package watch tells ganger when the app's files change, for
// "ganger start --watch". It is the only package that knows fsnotify; the
// CLI forwards its batches to the runner.
//
// It owns:
//
//   - the watch set: every real directory under the app root, added
//     recursively at start and as directories appear (what a new directory
//     already holds is reported at once), dropped as they go. Symbolic links
//     are never followed, inside the root or out of it.
//   - ignoring: DefaultIgnores (.git, node_modules, .ganger, editor temp
//     files) always; then every .gitignore in the tree, each relative to its
//     own directory, in gitignore syntax (# comments, ! negation, leading /
//     anchoring, trailing / for directories, *, ?, [...], **); then the
//     Options.Ignore patterns. An ignored directory is never watched nor
//     listed, so a huge node_modules costs nothing. Editing a .gitignore
//     re-applies it.
//   - debouncing: a burst of events becomes one Batch of sorted,
//     slash-separated paths relative to the root, delivered after
//     Options.Debounce of quiet (trailing edge, 200 ms by default).
//   - the glob syntax of per-process watch patterns (Match, CheckGlob):
//     "**/*.go", "worker/**".
//   - kernel limits: when the watch limit (fs.inotify.max_user_watches) is
//     reached, a warning wrapping ErrWatchLimit says how to raise it, and
//     what could be watched still is. Event queue overflow triggers a
//     rescan and a Batch with Overflow set.
//
// Warnings go to an injected func; the package prints nothing. One
// goroutine, the one running Run, owns the watch state and the pending
// batch.
package watch
