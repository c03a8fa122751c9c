//go:build !linux

package main

import "time"

// startProcesses returns pid: off Linux, the keeper is not looked for.
func startProcesses(pid int) []int { return []int{pid} }

// waitExited cannot wait for processes that are not our children off
// Linux: quit returns once the server has released its socket and lock.
func waitExited(pids []int, timeout time.Duration) bool { return true }
