package control

import "golang.org/x/sys/unix"

// maxSocketPath is sizeof(sun_path); a path must be shorter.
const maxSocketPath = 108

func sockPeerUID(fd int) (uint32, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}
