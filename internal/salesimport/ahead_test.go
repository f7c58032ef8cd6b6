package salesimport

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
)

// TestStreamCSVAhead: the chunks come in the file's order with the sales StreamCSV gives; an
// error of fn stops the reading and is returned; a bad line after good chunks is returned after
// them.
func TestStreamCSVAhead(t *testing.T) {
	var b strings.Builder
	b.WriteString("sale_id,sold_at,item,quantity,total,payment_method\n")
	for n := 0; n < 1000; n++ {
		for k := 0; k <= n%3; k++ {
			fmt.Fprintf(&b, "S%04d,2026-12-01 10:%02d:00,Item %d,1,%d.00,card\n", n, n%60, k, k+1)
		}
	}
	file := b.String()
	var want []domain.ImportedSale
	if err := StreamCSV(strings.NewReader(file), Mapping{}, 7, func(c []domain.ImportedSale) error {
		want = append(want, c...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got []domain.ImportedSale
	if err := StreamCSVAhead(strings.NewReader(file), Mapping{}, 7, func(c []domain.ImportedSale) error {
		got = append(got, c...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 || len(want) != 1000 {
		t.Fatalf("%d sales ahead, %d streamed, want 1000", len(got), len(want))
	}
	for n := range want {
		g, w := got[n], want[n]
		if g.ExternalID != w.ExternalID || g.Total != w.Total || len(g.Lines) != len(w.Lines) || len(g.Payments) != 1 ||
			g.Payments[0].Amount != w.Total || !g.SoldAt.Equal(w.SoldAt) {
			t.Fatalf("sale %d: %+v, want %+v", n, g, w)
		}
	}

	boom := errors.New("boom")
	calls := 0
	err := StreamCSVAhead(strings.NewReader(file), Mapping{}, 7, func(c []domain.ImportedSale) error {
		calls++
		if calls == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Fatalf("fn failing at its third chunk: %v after %d calls", err, calls)
	}

	bad := file + "S9999,2026-12-01 10:00:00,Tea,1,2.5x,card\n"
	calls = 0
	err = StreamCSVAhead(strings.NewReader(bad), Mapping{}, 7, func(c []domain.ImportedSale) error {
		calls++
		return nil
	})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != strings.Count(file, "\n")+1 || calls == 0 {
		t.Fatalf("a bad last line: %v after %d chunks", err, calls)
	}
}
