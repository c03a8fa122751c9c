package control

import "golang.org/x/sys/unix"

// maxSocketPath is sizeof(sun_path); a path must be shorter.
const maxSocketPath = 104

func sockPeerUID(fd int) (uint32, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}
