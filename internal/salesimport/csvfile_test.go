package salesimport

import (
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	eu := "sale_id;sold_at;item;quantity;total;status\nA;01/12/2026 18:30;Bier;2;€ 7,00;\nA;01/12/2026 18:30;Bitterballen;1;6,50;\nB;01/12/2026 19:00;Bier;1;3,50;refunded\n"
	sales, err := ParseCSV([]byte("\xef\xbb\xbf"+eu), Mapping{Decimal: ",", Timezone: "Europe/Amsterdam"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != 2 || sales[0].Total != 1350 || sales[0].Lines[0].UnitPrice != 350 || sales[1].Status != "refunded" ||
		sales[0].SoldAt.Hour() != 17 {
		t.Fatalf("%+v", sales)
	}
	for _, c := range []struct{ in, want string }{
		{"sale_id,sold_at,item,quantity,total\nA,2026-12-01,Tea,1,2.50\nB,2026-12-01,T\xff,1,1\n", "line 3: the file is not UTF-8"},
		{"sale_id,sold_at,item,quantity,total\nA,2026-12-01,Tea,1,2.5x\n", "line 2: total"},
		{"sale_id,sold_at,item,quantity,total\nA,yesterday,Tea,1,2.50\n", "line 2: sale time"},
		{"sale_id,sold_at,item,quantity,total\nA,2026-12-01,Tea,1,92233720368547758.07\nA,2026-12-01,Tea,1,1\n", "out of range"},
		{"id,when\n", "line 1: unknown columns"},
		{"", "line 1: the file is empty"},
	} {
		if _, err := ParseCSV([]byte(c.in), Mapping{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}
