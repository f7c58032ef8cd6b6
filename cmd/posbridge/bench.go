package main

import (
	"context"
	"io"

	syncbench "github.com/posbridge/posbridge/internal/bench"
)

// bench runs `posbridge bench sync`, the order sync benchmark of internal/bench,
// `posbridge bench neighbour`, the noisy-neighbour measurement, and the others of
// internal/bench's Command (hooks, sales, catalog).
func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "neighbour" {
		return syncbench.NeighbourCommand(ctx, args[1:], getenv, stdout, stderr)
	}
	return syncbench.Command(ctx, args, getenv, stdout, stderr)
}
