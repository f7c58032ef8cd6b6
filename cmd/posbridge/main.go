// Command posbridge is the one binary of posbridge: serve (API, console and workers), worker,
// migrate, account create, sim (a provider simulator) and version. main only calls run, so tests
// can run the whole command in-process.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "posbridge:", err)
		os.Exit(1)
	}
}
