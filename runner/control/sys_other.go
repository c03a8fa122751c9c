//go:build !linux && !darwin

package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
)

const maxSocketPath = 104

var errLocked = errors.New("lock held by another process")

var errUnsupported = fmt.Errorf("the control socket is not supported on %s; ganger ps, restart and stop need Linux or macOS", runtime.GOOS)

func ownerOf(fs.FileInfo) uint32 { return ^uint32(0) }

func openAppDir(string, int) (*os.File, error) { return nil, errUnsupported }

func lockFile(*os.File, string, int) (*os.File, error) { return nil, errUnsupported }

func peerUID(*net.UnixConn) (uint32, error) { return 0, errUnsupported }

func isRefused(error) bool { return false }
