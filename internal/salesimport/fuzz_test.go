package salesimport

import (
	"archive/zip"
	"bytes"
	"errors"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
)

// FuzzParseCSV: a sales file from outside (an email attachment) never panics the parser, and
// what it takes is consistent: either an error naming a line, or sales whose lines are there,
// whose status is one the app knows and whose total is the sum of its lines.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"sale_id,sold_at,item,quantity,total\nA,2026-12-01,Tea,1,2.50\n",
		"\xef\xbb\xbfsale_id;sold_at;item;quantity;total;status\nA;01/12/2026 18:30;Bier;2;€ 7,00;\nB;01/12/2026 19:00;Bier;1;3,50;refunded\n",
		"sale_id,sold_at,item,quantity,total\nA,2026-12-01,Tea,1,92233720368547758.07\nA,2026-12-01,Tea,1,1\n",
		"sale_id,sold_at,item,quantity,total\n\"A\"\"\",2026-12-01T10:00:00Z,\"T,ea\",1.5,-2.50\n",
		"id,when\n", "", "\x00", "sale_id,sold_at,item,quantity,total\nA,2026-12-01,T\xff,1,1\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, comma bool) {
		m := Mapping{}
		if comma {
			m = Mapping{Decimal: ",", Timezone: "Europe/Amsterdam"}
		}
		sales, err := ParseCSV(data, m)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) && !isInvalid(err) {
				t.Fatalf("error of an unexpected kind %T: %v", err, err)
			}
			if sales != nil {
				t.Fatalf("sales %d beside the error %v: nothing of a bad file is taken", len(sales), err)
			}
			return
		}
		for _, s := range sales {
			if s.ExternalID == "" || len(s.Lines) == 0 {
				t.Fatalf("sale without id or lines: %+v", s)
			}
			var sum int64
			for _, l := range s.Lines {
				sum += l.Total
			}
			if sum != s.Total {
				t.Fatalf("sale %s total %d, lines sum to %d", s.ExternalID, s.Total, sum)
			}
			switch s.Status {
			case domain.SaleCompleted, domain.SaleRefunded, domain.SaleVoided:
			default:
				t.Fatalf("status %q", s.Status)
			}
		}
	})
}

func isInvalid(err error) bool {
	var de *domain.Error
	return errors.As(err, &de)
}

// FuzzUnzip: a zip attachment from outside never panics and never unpacks past MaxUnzipped.
func FuzzUnzip(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("sales.csv")
	w.Write([]byte("sale_id,sold_at,item,quantity,total\nA,2026-12-01,Tea,1,2.50\n"))
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _, err := Unzip(b)
		if err == nil && len(out) > MaxUnzipped {
			t.Fatalf("unpacked %d bytes", len(out))
		}
	})
}
