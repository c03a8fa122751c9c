// Command worker is the example app's background worker: it logs a tick at
// WORKER_INTERVAL until it is told to stop.
package main

import (
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	interval, err := time.ParseDuration(os.Getenv("WORKER_INTERVAL"))
	if err != nil {
		interval = time.Second
	}
	log.SetFlags(0)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-t.C:
			log.Printf("processed job %d", n)
		case <-stop:
			log.Print("finishing the current job and exiting")
			return
		}
	}
}
