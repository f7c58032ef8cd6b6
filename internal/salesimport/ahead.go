package salesimport

import (
	"errors"
	"io"

	"github.com/posbridge/posbridge/internal/domain"
)

// errStopped ends the reading goroutine of StreamCSVAhead when fn failed.
var errStopped = errors.New("sales file reading stopped")

// StreamCSVAhead is StreamCSV with the file read one chunk ahead on a goroutine of its own:
// while fn writes a chunk (on the caller's goroutine, one chunk at a time, in the file's order),
// the next one is parsed, so an import uses two cores. fn must not keep the slice. The first
// error wins: fn's stops the reading, the file's (a *FileError) comes after the chunks before it.
// It returns once the reading goroutine has ended, so rd is the caller's again.
func StreamCSVAhead(rd io.Reader, m Mapping, chunk int, fn func([]domain.ImportedSale) error) error {
	full := make(chan []domain.ImportedSale, 1)
	free := make(chan []domain.ImportedSale, 2)
	free <- nil // two buffers: one parsed ahead, one being written
	free <- nil
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		defer close(full)
		done <- StreamCSV(rd, m, chunk, func(c []domain.ImportedSale) error {
			var buf []domain.ImportedSale
			select {
			case buf = <-free:
			case <-stop:
				return errStopped
			}
			// A shallow copy is the chunk's: StreamCSV reuses its slice, not a sale's lines.
			buf = append(buf[:0], c...)
			select {
			case full <- buf:
				return nil
			case <-stop:
				return errStopped
			}
		})
	}()
	var ferr error
	for c := range full {
		if ferr == nil {
			if ferr = fn(c); ferr != nil {
				close(stop)
			}
		}
		clear(c) // no sale kept alive by a buffer
		free <- c
	}
	err := <-done
	if ferr != nil {
		return ferr
	}
	return err
}
