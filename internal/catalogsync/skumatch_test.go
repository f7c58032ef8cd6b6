package catalogsync

import (
	"slices"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

func TestPairBySKU(t *testing.T) {
	shop := map[string][]string{
		"A":      {"s1"},       // one on each side: paired
		"B":      {"s2", "s3"}, // two in the shop: ambiguous
		"C":      {"s4"},       // two in the source: ambiguous
		"D":      {"s5"},       // the shop's product is linked already
		"E":      {"s6"},       // the source's product is linked already
		"F":      {"s7"},       // not in the source
		"":       {"s8"},       // no SKU
		"a":      {"s9"},       // SKUs match exactly, case and all
		"G":      {"s10"},      // paired
		"Z-only": {},
	}
	ours := []store.SKUProduct{
		{ID: "p1", ExternalID: "x1", SKU: "A"},
		{ID: "p2", ExternalID: "x2", SKU: "B"},
		{ID: "p3", ExternalID: "x3", SKU: "C"}, {ID: "p4", ExternalID: "x4", SKU: "C"},
		{ID: "p5", ExternalID: "x5", SKU: "D"},
		{ID: "p6", ExternalID: "x6", SKU: "E", Linked: true},
		{ID: "p7", ExternalID: "x7", SKU: ""},
		{ID: "p10", ExternalID: "x10", SKU: "G"},
	}
	got, ambiguous := pairBySKU("shop", shop, map[string]bool{"s5": true}, ours)
	want := []domain.SKUMatch{
		{ProductID: "p1", SourceExternalID: "x1", IntegrationID: "shop", ExternalID: "s1", SKU: "A"},
		{ProductID: "p10", SourceExternalID: "x10", IntegrationID: "shop", ExternalID: "s10", SKU: "G"},
	}
	if !slices.Equal(got, want) || ambiguous != 2 {
		t.Fatalf("pairs %v, %d ambiguous; want %v, 2", got, ambiguous, want)
	}
}

func TestSKUMatchReportAdd(t *testing.T) {
	var r domain.SKUMatchReport
	many := make([]domain.SKUMatch, domain.SKUMatchExamples-1)
	r.Add(domain.SKUMatchReport{Matched: len(many), Ambiguous: 1, Examples: many})
	r.Add(domain.SKUMatchReport{Matched: 2, Ambiguous: 2, Examples: []domain.SKUMatch{{SKU: "last"}, {SKU: "left out"}}})
	if r.Matched != domain.SKUMatchExamples+1 || r.Ambiguous != 3 || len(r.Examples) != domain.SKUMatchExamples || r.Examples[len(r.Examples)-1].SKU != "last" {
		t.Fatalf("report %d matched, %d ambiguous, %d examples", r.Matched, r.Ambiguous, len(r.Examples))
	}
	for _, c := range []struct {
		r    domain.SKUMatchReport
		want string
	}{
		{domain.SKUMatchReport{Matched: 12, Ambiguous: 2}, "Matched 12 products by SKU at the first import; 2 SKUs were ambiguous and were left unlinked."},
		{domain.SKUMatchReport{Matched: 1, Ambiguous: 1}, "Matched 1 product by SKU at the first import; 1 SKU was ambiguous and was left unlinked."},
		{domain.SKUMatchReport{}, "Matched 0 products by SKU at the first import; no SKU was ambiguous."},
	} {
		if got := c.r.Sentence(); got != c.want {
			t.Errorf("sentence %q, want %q", got, c.want)
		}
	}
}
