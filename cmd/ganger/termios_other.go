//go:build !linux

package main

import "golang.org/x/sys/unix"

// The ioctls that read and set a terminal's attributes (BSD and macOS).
const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)
