package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// childMain runs this program as one of the bench's processes when its
// first argument names one, and reports whether it did:
//
//	listen FILE  listen on $PORT, then write the time (Unix ns) to FILE
//	tick FIFO    for each byte read from FIFO, print "tick <Unix ns>"
//	idle         wait to be signalled
func childMain() bool {
	if len(os.Args) < 2 {
		return false
	}
	switch os.Args[1] {
	case "listen":
		l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer l.Close()
		now := strconv.FormatInt(time.Now().UnixNano(), 10)
		tmp := os.Args[2] + ".tmp"
		if err := os.WriteFile(tmp, []byte(now), 0o644); err != nil || os.Rename(tmp, os.Args[2]) != nil {
			os.Exit(1)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		waitForever()
	case "tick":
		f, err := os.Open(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		p := make([]byte, 1)
		for {
			if _, err := f.Read(p); err != nil {
				waitForever() // the bench closed its end: wait to be stopped
			}
			fmt.Printf("tick %d\n", time.Now().UnixNano())
		}
	case "idle":
		waitForever()
	}
	return false
}

// waitForever waits to be signalled (ganger stops the bench's processes).
func waitForever() {
	for {
		time.Sleep(time.Hour)
	}
}
