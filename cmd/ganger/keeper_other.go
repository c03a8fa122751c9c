//go:build !linux

package main

// keep does nothing off Linux: without child subreapers a keeper could not
// find the processes that leave their group, so ganger runs alone (see the
// README on kill -9).
func keep([]string) kept { return kept{} }
