package main

import (
	"context"
	"io"

	syncbench "github.com/posbridge/posbridge/internal/bench"
)

// bench runs `posbridge bench sync`: the order sync benchmark of internal/bench.
func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return syncbench.Command(ctx, args, getenv, stdout, stderr)
}
