package console

import (
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
)

// TestDocTotalNeverWraps: a document stored before the bounds (two lines of 2^63-1, which used to
// show as "EUR -0.02") shows "out of range", never a wrapped total.
func TestDocTotalNeverWraps(t *testing.T) {
	line := func(amount int64) domain.DocLine {
		return domain.DocLine{Description: "x", Quantity: "1", UnitPrice: domain.Money{Amount: amount, Currency: "EUR"}}
	}
	for _, c := range []struct {
		lines []domain.DocLine
		want  string
	}{
		{[]domain.DocLine{line(1<<63 - 1), line(1<<63 - 1)}, "out of range"},
		{[]domain.DocLine{line(domain.MaxAmount), line(1)}, "out of range"},
		{[]domain.DocLine{line(350), line(-1000)}, "EUR -6.50"},
		{nil, "—"},
	} {
		d := domain.Document{DocContent: domain.DocContent{Lines: c.lines}}
		if got := docTotal(d); got != c.want {
			t.Errorf("docTotal = %q, want %q", got, c.want)
		}
	}
}
