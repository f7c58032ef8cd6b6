package salesimport

import (
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
)

func base64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: r})
}

func qpReader(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }

// stripNewlines drops CR, LF and spaces, which base64 bodies are wrapped with.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		if n == 0 {
			return 0, err
		}
		k := 0
		for _, b := range p[:n] {
			if !strings.ContainsRune("\r\n \t", rune(b)) {
				p[k] = b
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}
